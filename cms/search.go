package cms

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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
// items that match and that the caller may see. BM25 costs a few
// microseconds per match (it reads each matching document's length), so
// ranking all 15,000 items that hold a common word would take 50 ms, and
// 1,000 take 4; a rarer word is ranked in full.
const RankWindow = 1000

// maxExpansions caps the terms a last word of four or more characters is
// expanded to; a prefix with more is left to FTS5 (which then merges the
// doclists of all of them, as for any prefix without an index).
const maxExpansions = 32

// Search finds live items whose title or text match q, best first (BM25,
// titles weigh ten times the body, among the newest RankWindow matches),
// with a snippet around the match in <mark>. q is plain words: each must
// match, the last also as a prefix (of two characters or more); FTS5
// query syntax in it is taken literally, never interpreted.
//
// It runs as one statement in two steps. The window's lower bound is the
// rowid of the RankWindow-th newest visible match, found by walking the
// index newest first with visibility inside the FTS5 query (the
// search_vis column of migration 000006), so no match is joined to its
// item to find it. Then the matches from that bound on are ranked by
// FTS5's rank (BM25) and joined to their items in rank order, each
// checked against the caller's visibility again in SQL, until Limit;
// snippets are built for those only.
func (s *Store) Search(ctx context.Context, q string, opt SearchOptions) ([]Hit, error) {
	words := searchWords(q)
	if len(words) == 0 {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_query", "q needs at least one word to search for")
	}
	if opt.Limit <= 0 {
		opt.Limit = 20
	}
	if opt.Limit > 100 {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_query", "limit is at most 100")
	}
	vis, none, err := s.visibility(ctx, opt)
	if err != nil || none {
		return []Hit{}, err
	}
	last, err := s.lastWord(ctx, words[len(words)-1])
	if err != nil || last == "" {
		return []Hit{}, err
	}
	// No column filter: it doubles what BM25 costs per match, and no
	// search word can match search_vis's tokens anyway.
	match := strings.Join(append(quoted(words[:len(words)-1]), last), " ")
	window := match
	if vis != "" {
		window = "(" + match + ") " + vis
	}
	cond := " AND c.deleted_at IS NULL"
	if opt.Collection != "" {
		cond += " AND col.name = ?4"
	}
	if opt.PublishedOnly {
		cond += " AND c.status = 'published'"
	}
	if opt.PublicOnly {
		cond += " AND col.is_public = 1"
	}
	query := "SELECT " + itemColumns + `, snippet(content_fts, -1, '<mark>', '</mark>', '…', 16), content_fts.rank
		FROM content_fts CROSS JOIN content c ON c.rowid = content_fts.rowid CROSS JOIN collections col ON col.id = c.collection_id
		WHERE content_fts MATCH ?1` + cond + `
		AND content_fts.rowid >= ` + windowBound(window != match) + `
		ORDER BY content_fts.rank LIMIT ?3`
	// Kept prepared: the statement's text varies only with the options.
	var rows *sql.Rows
	if stmt := s.DB.ReadStmt(ctx, query); stmt != nil {
		rows, err = stmt.QueryContext(ctx, match, window, opt.Limit, opt.Collection)
	} else {
		rows, err = s.DB.Reader().QueryContext(ctx, query, match, window, opt.Limit, opt.Collection)
	}
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

// windowBound is the SQL of the ranking window's lower bound: the rowid of
// the RankWindow-th newest match of ?2 (the words and, if filtered, the
// visibility clause), or 0 when there are fewer. With a visibility clause
// the unfiltered matches are counted first, up to RankWindow: a rare
// word's fewer matches then need no walk through the visibility tokens,
// which costs several microseconds a match.
func windowBound(filtered bool) string {
	off := strconv.Itoa(RankWindow - 1)
	bound := `coalesce((SELECT rowid FROM content_fts(?2) ORDER BY rowid DESC LIMIT 1 OFFSET ` + off + `), 0)`
	if !filtered {
		return bound
	}
	return `CASE WHEN (SELECT rowid FROM content_fts(?1) ORDER BY rowid DESC LIMIT 1 OFFSET ` + off + `) IS NULL THEN 0 ELSE ` + bound + ` END`
}

// visibility is the FTS5 clause that keeps a search to what opt allows,
// by the search_vis tokens: "NOT (...)" naming the hidden classes
// (unpublished items, private collections), which are usually the few,
// and "AND c<id>" for one collection. none reports that nothing can match
// (an unknown or, for PublicOnly, private collection).
func (s *Store) visibility(ctx context.Context, opt SearchOptions) (clause string, none bool, err error) {
	var hidden []string
	if opt.PublishedOnly {
		hidden = append(hidden, visMark+"unpublished")
	}
	if opt.Collection != "" {
		var id string
		var public bool
		err := s.DB.QueryRow(ctx, `SELECT id, is_public FROM collections WHERE name = ?`, opt.Collection).Scan(&id, &public)
		if errors.Is(err, sql.ErrNoRows) || err == nil && opt.PublicOnly && !public {
			return "", true, nil
		}
		if err != nil {
			return "", false, err
		}
		clause = "AND " + visToken(id)
	} else if opt.PublicOnly {
		const private = `SELECT id FROM collections WHERE is_public = 0`
		var rows *sql.Rows
		var err error
		if stmt := s.DB.ReadStmt(ctx, private); stmt != nil {
			rows, err = stmt.QueryContext(ctx)
		} else {
			rows, err = s.DB.Reader().QueryContext(ctx, private)
		}
		if err != nil {
			return "", false, err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return "", false, err
			}
			hidden = append(hidden, visToken(id))
		}
		if err := rows.Err(); err != nil {
			return "", false, err
		}
	}
	if len(hidden) > 0 {
		clause = strings.TrimSpace(clause + " NOT (" + strings.Join(hidden, " OR ") + ")")
	}
	return clause, false, nil
}

// visMark starts every search_vis token: U+E000, private use, which the
// tokenizer keeps inside a token, searchWords never leaves in a word, and
// FTS5 takes in a bareword.
const visMark = "\ue000"

// visToken is a collection's token in search_vis: c and the hex of its id
// after visMark, as migration 000006's generated column writes it (one
// token whatever characters the id has).
func visToken(id string) string { return visMark + "c" + hex.EncodeToString([]byte(id)) }

// lastWord is the FTS5 query for the last word of a search, which also
// matches as a prefix: a one-character word only as itself; two or three
// characters through the prefix index; longer words as the terms that
// start with them (found in content_fts_terms, at most maxExpansions),
// which FTS5 reads lazily where a prefix query would merge all their
// doclists first. "" means no term starts with it.
func (s *Store) lastWord(ctx context.Context, w string) (string, error) {
	n := utf8.RuneCountInString(w)
	switch {
	case n == 1:
		return `"` + w + `"`, nil
	case n <= 3 || !isASCII(w):
		// Terms are stored folded (case, diacritics): only an ASCII word
		// is its own term once lowercased.
		return `"` + w + `"*`, nil
	}
	w = strings.ToLower(w)
	var terms []string
	next := w
	for len(terms) <= maxExpansions {
		var t string
		err := s.DB.QueryRow(ctx, `SELECT term FROM content_fts_terms WHERE term >= ? LIMIT 1`, next).Scan(&t)
		if errors.Is(err, sql.ErrNoRows) || err == nil && !strings.HasPrefix(t, w) {
			break
		}
		if err != nil {
			return "", err
		}
		terms = append(terms, `"`+t+`"`)
		next = t + "\x01" // the least string after t that is not t
	}
	switch len(terms) {
	case 0:
		return "", nil
	case 1:
		return terms[0], nil
	case maxExpansions + 1:
		return `"` + w + `"*`, nil
	}
	return "(" + strings.Join(terms, " OR ") + ")", nil
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// searchWords are q's words (letters and digits), at most 16.
func searchWords(q string) []string {
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > 16 {
		words = words[:16]
	}
	return words
}

// quoted makes each word an FTS5 string, so operators and quotes in it are
// text.
func quoted(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = `"` + w + `"`
	}
	return out
}

// SearchText is the text of an item's data that search indexes (tags
// stripped), for writers that store items themselves (an import).
func SearchText(data json.RawMessage) string { return searchText(data) }
