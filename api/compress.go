package api

import (
	"mime"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzhttp"
)

// CompressMinSize is the smallest answer compressed, in bytes: below it
// the encoding's framing costs about what it saves.
const CompressMinSize = 1024

// etagSuffixes mark a compressed answer's ETag: a representation's
// validator must differ from the uncompressed one's (RFC 9110 8.8.3), and
// gzhttp appends these to the handler's tag ("abc" → "abc-gzip").
var etagSuffixes = []string{"-gzip", "-zstd"}

// compress wraps h so that JSON and text answers of CompressMinSize bytes
// or more go out compressed with zstd or gzip, whichever the client's
// Accept-Encoding prefers (zstd on a tie), with Vary: Accept-Encoding.
// It leaves alone HEAD, 304 and 204 answers, answers whose Content-Encoding
// is set, ranges (206), and every type but text and JSON, so media (images,
// video, archives) go out as they are and Range keeps working on them.
//
// The compressed answer's ETag carries a suffix; preconditions that quote
// it (If-None-Match, If-Match, If-Range) are handed to h without it, so
// handlers keep comparing their own tags.
func compress(h http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(CompressMinSize),
		gzhttp.ContentTypeFilter(compressible),
		gzhttp.SuffixETag(etagSuffixes[0]), // zstd gets -zstd
	)
	if err != nil {
		panic(err) // the options above are constant and valid
	}
	wrapped := wrap(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, name := range []string{"If-None-Match", "If-Match", "If-Range"} {
			if v := r.Header.Get(name); v != "" {
				if plain := stripETagSuffixes(v); plain != v {
					r.Header.Set(name, plain)
					if name == "If-None-Match" {
						w = &notModifiedTagger{ResponseWriter: w, suffix: suffixOf(v)}
					}
				}
			}
		}
		wrapped(w, r)
	})
}

// notModifiedTagger gives a 304 the ETag of the compressed answer it
// stands for: the client quoted the suffixed tag, and a 304 must carry the
// validator the 200 would have (RFC 9110 15.4.5).
type notModifiedTagger struct {
	http.ResponseWriter
	suffix string
}

func (w *notModifiedTagger) WriteHeader(status int) {
	if tag := w.Header().Get("ETag"); status == http.StatusNotModified && strings.HasSuffix(tag, `"`) {
		w.Header().Set("ETag", strings.TrimSuffix(tag, `"`)+w.suffix+`"`)
	}
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *notModifiedTagger) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// suffixOf is the compression suffix of the first tag of list that has one.
func suffixOf(list string) string {
	for _, tag := range strings.Split(list, ",") {
		tag = strings.TrimRight(tag, " \t")
		for _, s := range etagSuffixes {
			if strings.HasSuffix(tag, s+`"`) {
				return s
			}
		}
	}
	return ""
}

// compressible reports the content types worth compressing: JSON and text.
func compressible(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/javascript", mt == "application/xml", strings.HasSuffix(mt, "+xml"):
		return true
	}
	return false
}

// stripETagSuffixes removes the compression suffixes from each entity tag
// of a precondition list (`"a-gzip", W/"b-zstd"` → `"a", W/"b"`).
func stripETagSuffixes(list string) string {
	tags := strings.Split(list, ",")
	for i, tag := range tags {
		tag = strings.TrimRight(tag, " \t")
		for _, s := range etagSuffixes {
			if cut, ok := strings.CutSuffix(tag, s+`"`); ok {
				tags[i] = cut + `"`
			}
		}
	}
	return strings.Join(tags, ",")
}
