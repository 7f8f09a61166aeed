package admin

import (
	"net/url"
	"strings"
)

// choice is a value a reference or media input suggests.
type choice struct {
	Value, Label string
	Thumb        string // an image's URL (media), shown beside the input
}

// maxChoices bounds the suggestions of one input: a longer list is no
// help to read, and the id can always be typed.
const maxChoices = 100

// fillChoices gives reference inputs the newest items of the collection
// they point to, and media inputs the newest files, as suggestions
// (a datalist: any id may still be typed). One API call per collection
// and one for the media, whatever the number of inputs.
func fillChoices(cl *client, inputs []*input) {
	cache := map[string][]choice{}
	var walk func([]*input)
	walk = func(list []*input) {
		for _, in := range list {
			walk(in.Children)
			key := ""
			switch in.Field.Type {
			case "reference":
				key = "c:" + in.Field.Collection
			case "media", "file":
				key = "media"
			default:
				continue
			}
			if _, ok := cache[key]; !ok {
				cache[key] = loadChoices(cl, key)
			}
			in.Choices = cache[key]
			in.ListID = "choices-" + strings.NewReplacer(":", "-", "_", "-").Replace(key)
		}
	}
	walk(inputs)
}

func loadChoices(cl *client, key string) []choice {
	var out []choice
	if name, ok := strings.CutPrefix(key, "c:"); ok {
		var res struct {
			Data []*item `json:"data"`
		}
		if cl.get("/api/collections/"+escape(name)+"/content", url.Values{"limit": {"100"}, "fields": {"id"}}, &res) != nil {
			return nil
		}
		for _, it := range res.Data {
			out = append(out, choice{Value: it.ID, Label: it.Label()})
		}
		return out
	}
	var res struct {
		Data []struct {
			ID       string `json:"id"`
			Filename string `json:"filename"`
			Alt      string `json:"alt"`
			MimeType string `json:"mime_type"`
			URL      string `json:"url"`
		} `json:"data"`
	}
	if cl.get("/api/media", url.Values{"limit": {"100"}}, &res) != nil {
		return nil
	}
	for _, m := range res.Data {
		label := m.Alt
		if label == "" {
			label = m.Filename
		}
		ch := choice{Value: m.ID, Label: label}
		if strings.HasPrefix(m.MimeType, "image/") && strings.HasPrefix(m.URL, "/") {
			ch.Thumb = m.URL
		}
		out = append(out, ch)
	}
	return out
}
