package sqlitedb

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsUnique reports whether err is a UNIQUE or PRIMARY KEY constraint
// failing: the row's key exists already. It asks SQLite's extended result
// code (modernc turns extended codes on for every connection), never the
// message, whose wording is SQLite's to change.
func IsUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// IsUnique is the package's IsUnique, for callers that hold a condo.DB.
func (db *DB) IsUnique(err error) bool { return IsUnique(err) }
