package hrana

import "strings"

// This file reads the few words of a statement the endpoint must
// interpret: the client's transaction mode (BEGIN TRANSACTION READONLY,
// which plain SQLite takes for a transaction named READONLY) and whether a
// statement is an INSERT (the only kind whose last_insert_rowid the
// clients get). It never decides a permission: that is the authorizer's
// (policy.go).

// skipSpace returns the offset of the first byte at or after i that is
// not whitespace or inside a comment (-- to the end of the line, /* */).
func skipSpace(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v':
			i++
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return len(s)
			}
			i += j + 1
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return len(s)
			}
			i += 2 + j + 2
		default:
			return i
		}
	}
	return i
}

// word returns the bare word (keyword or identifier) at i and the offset
// after it; "" when no word starts at i.
func word(s string, i int) (string, int) {
	j := i
	for j < len(s) {
		c := s[j]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > i && c >= '0' && c <= '9' {
			j++
			continue
		}
		break
	}
	return s[i:j], j
}

// firstWord is the statement's first word, upper-cased.
func firstWord(sql string) string {
	w, _ := word(sql, skipSpace(sql, 0))
	return strings.ToUpper(w)
}

// isBeginReadOnly reports whether sql is exactly BEGIN TRANSACTION
// READONLY (as @libsql/client's batch and transaction in "read" mode send
// it) or BEGIN READONLY, in any case, with any whitespace and comments,
// and trailing semicolons.
func isBeginReadOnly(sql string) bool {
	w, i := word(sql, skipSpace(sql, 0))
	if !strings.EqualFold(w, "BEGIN") {
		return false
	}
	w, i = word(sql, skipSpace(sql, i))
	if strings.EqualFold(w, "TRANSACTION") {
		w, i = word(sql, skipSpace(sql, i))
	}
	if !strings.EqualFold(w, "READONLY") {
		return false
	}
	for {
		i = skipSpace(sql, i)
		if i < len(sql) && sql[i] == ';' {
			i++
			continue
		}
		return i == len(sql)
	}
}
