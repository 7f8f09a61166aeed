package cms

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"unicode"

	"github.com/condohq/condo"
)

// searchText is the text of an item's data that search indexes: every
// string in it, markup stripped. It is stored in content.search_text, which
// triggers copy into the full-text index.
func searchText(data json.RawMessage) string {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(stripTags(x))
			b.WriteByte(' ')
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

// stripTags drops anything between < and >, enough for indexing text
// (the stored HTML is already sanitized).
func stripTags(s string) string {
	if !strings.ContainsRune(s, '<') {
		return s
	}
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>' && in:
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Hit is one search result: the item with a highlighted snippet.
type Hit struct {
	*Item
	Snippet string  `json:"snippet"`
	Rank    float64 `json:"rank"`
}

// SearchOptions narrows Search.
type SearchOptions struct {
	Collection    string // a collection name, or all
	PublishedOnly bool
	PublicOnly    bool // only collections marked public (anonymous searches)
	Limit         int  // default 20, at most 100
}

// RankWindow bounds the matches a search ranks: the newest RankWindow
// items that match and that the caller may see. BM25 costs a few microseconds per match (it reads each
// matching document's length), so ranking all 15,000 items that hold a
// common word would take 50 ms, and 1,000 take 4; a rarer word is ranked in full.
const RankWindow = 1000

// Search finds live items whose title or text match q, best first (BM25,
// titles weigh ten times the body, among the newest RankWindow matches),
// with a snippet around the match in <mark>. q is plain words: each must
// match, the last also as a prefix; FTS5 query syntax in it is taken
// literally, never interpreted.
func (s *Store) Search(ctx context.Context, q string, opt SearchOptions) ([]Hit, error) {
	match := ftsQuery(q)
	if match == "" {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_query", "q needs at least one word to search for")
	}
	if opt.Limit <= 0 {
		opt.Limit = 20
	}
	if opt.Limit > 100 {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_query", "limit is at most 100")
	}
	// The window is taken over the matches the caller may see, so hidden
	// items neither crowd visible ones out nor show through its size.
	cond := func(c, col string) string {
		w := " AND " + c + ".deleted_at IS NULL"
		if opt.Collection != "" {
			w += " AND " + col + ".name = ?2"
		}
		if opt.PublishedOnly {
			w += " AND " + c + ".status = 'published'"
		}
		if opt.PublicOnly {
			w += " AND " + col + ".is_public = 1"
		}
		return w
	}
	query := "SELECT " + itemColumns + `, snippet(content_fts, -1, '<mark>', '</mark>', '…', 16), content_fts.rank
		FROM content_fts CROSS JOIN content c ON c.rowid = content_fts.rowid CROSS JOIN collections col ON col.id = c.collection_id
		WHERE content_fts MATCH ?1` + cond("c", "col") + `
		AND content_fts.rowid >= coalesce((SELECT f.rowid FROM content_fts(?1) AS f CROSS JOIN content c2 ON c2.rowid = f.rowid
			CROSS JOIN collections col2 ON col2.id = c2.collection_id WHERE 1 = 1` + cond("c2", "col2") + `
			ORDER BY f.rowid DESC LIMIT 1 OFFSET ` + strconv.Itoa(RankWindow-1) + `), 0)
		ORDER BY content_fts.rank LIMIT ?3`
	args := []any{match, opt.Collection, opt.Limit}
	rows, err := s.DB.Reader().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Hit{}
	for rows.Next() {
		var h Hit
		var err error
		if h.Item, err = scanItem(rows, &h.Snippet, &h.Rank); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// ftsQuery turns plain words into an FTS5 query: each word a quoted
// string (so operators and quotes in it are text), the last a prefix.
func ftsQuery(q string) string {
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > 16 {
		words = words[:16]
	}
	for i, w := range words {
		words[i] = `"` + w + `"`
	}
	if len(words) > 0 {
		words[len(words)-1] += "*"
	}
	return strings.Join(words, " ")
}
