package condo

import "time"

// Every Condo database (the catalog, each tenant, over any backend) stores
// a time as an INTEGER of Unix milliseconds, UTC: it sorts and compares as
// a number in SQL and in indexes, and reads back exactly.

// UnixMS returns t as stored: Unix milliseconds.
func UnixMS(t time.Time) int64 { return t.UnixMilli() }

// FromUnixMS returns the time stored as v, in UTC.
func FromUnixMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// NullUnixMS returns *t as stored, or nil (SQL NULL) when t is nil, as a
// query argument.
func NullUnixMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return UnixMS(*t)
}

// FromNullUnixMS returns the time stored as *v, or nil when v is nil (a
// NULL column scanned into a *int64).
func FromNullUnixMS(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := FromUnixMS(*v)
	return &t
}
