package cms

// Cursors: keyset positions in a list, tied to the query that made them.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// cursor is a position in a list: the sort-key values of the last item
// read (id last), and the hash of the query that read it.
type cursor struct {
	hash string
	keys []any
}

type cursorDoc struct {
	H string   `json:"h"`
	K []string `json:"k"` // typed: "n", "i:<int>", "f:<float>", "s:<text>", "b:<base64>"
}

func encodeCursor(hash string, keys []any) string {
	doc := cursorDoc{H: hash, K: make([]string, len(keys))}
	for i, v := range keys {
		switch v := v.(type) {
		case nil:
			doc.K[i] = "n"
		case int64:
			doc.K[i] = "i:" + strconv.FormatInt(v, 10)
		case float64:
			doc.K[i] = "f:" + strconv.FormatFloat(v, 'g', -1, 64)
		case string:
			doc.K[i] = "s:" + v
		case []byte:
			doc.K[i] = "b:" + base64.StdEncoding.EncodeToString(v)
		default:
			doc.K[i] = "s:" + fmt.Sprint(v)
		}
	}
	b, _ := json.Marshal(doc)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(raw string, n int) (*cursor, error) {
	bad := invalidQuery("cursor is not valid (it belongs to a list with the same where and sort)")
	if len(raw) > maxCursorBytes {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(raw, "="))
	if err != nil {
		return nil, bad
	}
	var doc cursorDoc
	if err := json.Unmarshal(b, &doc); err != nil || doc.H == "" || len(doc.K) != n {
		return nil, bad
	}
	c := &cursor{hash: doc.H, keys: make([]any, n)}
	for i, k := range doc.K {
		tag, val, _ := strings.Cut(k, ":")
		switch tag {
		case "n":
			c.keys[i] = nil
		case "i":
			c.keys[i], err = strconv.ParseInt(val, 10, 64)
		case "f":
			c.keys[i], err = strconv.ParseFloat(val, 64)
		case "s":
			c.keys[i] = val
		case "b":
			c.keys[i], err = base64.StdEncoding.DecodeString(val)
		default:
			err = errors.New("unknown tag")
		}
		if err != nil {
			return nil, bad
		}
	}
	return c, nil
}

// hash identifies the rows and order of a list, so that a cursor is only
// used with the list that made it.
func (q *ListQuery) hash(collectionID string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q\x00%q\x00%q\x00", collectionID, q.Status, q.where)
	for _, a := range q.args {
		fmt.Fprintf(h, "%T:%v\x00", a, a)
	}
	for _, k := range q.keys() {
		fmt.Fprintf(h, "%s %t\x00", k.expr, k.desc)
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

// keysetAfter is the condition for rows strictly after vals in the order
// of keys: (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ..., with each step
// reading NULL as lower than any value, as ORDER BY does.
func keysetAfter(keys []sortKey, vals []any) (string, []any) {
	var ors, ties []string
	var args, tieArgs []any
	for i, k := range keys {
		v := vals[i]
		var after string
		var afterArgs []any
		switch {
		case !k.desc && v == nil:
			after = k.expr + " IS NOT NULL"
		case !k.desc:
			after, afterArgs = k.expr+" > ?", []any{v}
		case k.notNull && v != nil:
			after, afterArgs = k.expr+" < ?", []any{v}
		case v != nil:
			after, afterArgs = "("+k.expr+" < ? OR "+k.expr+" IS NULL)", []any{v}
		}
		if after != "" {
			ors = append(ors, "("+strings.Join(append(slices.Clone(ties), after), " AND ")+")")
			args = append(append(args, tieArgs...), afterArgs...)
		}
		if v == nil {
			ties = append(ties, k.expr+" IS NULL")
		} else {
			ties = append(ties, k.expr+" = ?")
			tieArgs = append(tieArgs, v)
		}
	}
	if len(ors) == 0 {
		return "0", nil
	}
	pred := "(" + strings.Join(ors, " OR ") + ")"
	// A redundant bound on the first key lets SQLite seek in an index
	// instead of testing the OR on every row.
	switch k, v := keys[0], vals[0]; {
	case !k.desc && v != nil:
		pred = k.expr + " >= ? AND " + pred
		args = append([]any{v}, args...)
	case k.desc && v == nil:
		pred = k.expr + " IS NULL AND " + pred
	case k.desc && k.notNull:
		pred = k.expr + " <= ? AND " + pred
		args = append([]any{v}, args...)
	}
	// A descending nullable key (a data field) gets no bound: the rows
	// after the cursor include the NULLs, which an index range cannot
	// express, so such pages filter the index instead of seeking in it.
	return pred, args
}
