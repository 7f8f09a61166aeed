// Package forms is the form-submissions plugin: each form a tenant
// configures gets a public endpoint, POST /api/plugins/forms/<form>,
// whose submissions are stored as draft items of the form's collection,
// validated against its schema like any item (so the collection's schema
// is the form's fields). Anonymous callers can only submit: the answer
// says "received" and nothing else, and a draft is never readable
// without credentials.
//
// Spam: each form has a honeypot field (website by default), hidden by
// the site's HTML and left empty by people; a submission that fills it is
// answered exactly like a stored one and dropped. Load: a submission
// costs one small write; bodies are capped at MaxBody, and the endpoint
// is a tenant route like any other, so the tenant's request rate limits
// apply to it.
package forms

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"

	"github.com/condohq/condo"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/plugins"
)

// Name is the plugin's name.
const Name = "forms"

// MaxBody bounds a submission's body.
const MaxBody = 64 << 10

// New returns the plugin.
func New() *plugins.Plugin {
	return &plugins.Plugin{
		Name:        Name,
		Description: "Public POST endpoints per form (/api/plugins/forms/<form>) storing submissions as draft items of a collection, with a honeypot field against spam.",
		Settings: []byte(`{"type": "object", "properties": {
			"forms": {"type": "array", "maxItems": 50, "default": [], "items": {"type": "object", "properties": {
				"name": {"type": "slug", "required": true, "maxLength": 64},
				"collection": {"type": "string", "required": true, "pattern": "^[a-z0-9_-]+$", "maxLength": 64},
				"honeypot": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "default": "website"}}}}}}`),
		Routes: []plugins.Route{{Method: http.MethodPost, Path: "/:form", Handler: submit}},
	}
}

// submit serves POST /api/plugins/forms/:form: 202 {"data":{"received":true}}.
func submit(r *plugins.Request) error {
	name := r.Param("form")
	var form plugins.Settings
	for _, f := range r.Settings.Objects("forms") {
		if f.String("name", "") == name {
			form = f
		}
	}
	if form == nil {
		return condo.ReasonErrorf(condo.ENOTFOUND, "form_not_found", "no form %q on this site", condo.Clip(name))
	}
	fields, err := decode(r)
	if err != nil {
		return err
	}
	honeypot := form.String("honeypot", "website")
	if v, ok := fields[honeypot]; ok {
		if s, isText := v.(string); v != nil && (!isText || s != "") {
			return received(r) // a bot: answered alike, stored nowhere
		}
		delete(fields, honeypot)
	}
	ctx := r.R.Context()
	col, err := r.Content.Collection(ctx, form.String("collection", ""))
	if condo.ErrorCode(err) == condo.ENOTFOUND {
		return condo.ReasonErrorf(condo.ENOTFOUND, "form_not_found", "form %q has no collection to store into: its settings name a missing one", condo.Clip(name))
	}
	if err != nil {
		return err
	}
	if _, err := r.Content.CreateItem(ctx, col, cms.ItemInput{Status: cms.StatusDraft, Data: fields}, ""); err != nil {
		return err
	}
	return received(r)
}

func received(r *plugins.Request) error {
	return r.JSON(http.StatusAccepted, map[string]any{"data": map[string]any{"received": true}})
}

// decode reads a JSON object or an HTML form (urlencoded or multipart
// without files).
func decode(r *plugins.Request) (map[string]any, error) {
	r.R.Body = http.MaxBytesReader(r.W, r.R.Body, MaxBody)
	ct, _, _ := mime.ParseMediaType(r.R.Header.Get("Content-Type"))
	var tooLarge *http.MaxBytesError
	switch ct {
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.R.ParseMultipartForm(MaxBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			if errors.As(err, &tooLarge) {
				return nil, bodyTooLarge()
			}
			return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_body", "the form could not be read")
		}
		out := map[string]any{}
		for k, v := range r.R.PostForm {
			if len(v) > 0 {
				out[k] = v[0]
			}
		}
		return out, nil
	default:
		var out map[string]any
		dec := json.NewDecoder(r.R.Body)
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil || out == nil {
			if errors.As(err, &tooLarge) {
				return nil, bodyTooLarge()
			}
			return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_body", "send the form's fields as a JSON object or an HTML form")
		}
		return out, nil
	}
}

func bodyTooLarge() error {
	return condo.ReasonErrorf(condo.EINVALID, "body_too_large", "a submission is at most %d kB", MaxBody>>10)
}
