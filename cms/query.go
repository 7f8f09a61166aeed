package cms

// The list query: SonicJS's where/sort/limit/offset/fields/include
// parameters, checked against the collection's schema and translated to
// SQLite. Field names reach the SQL only after the schema knows them and
// they match fieldIdent; every value is a bound parameter.
//
// Choices worth knowing:
//   - NULL sorts lowest, as SQLite does: first in ascending order, last in
//     descending order. An item without a data field has NULL there.
//   - not_equals and not_in match items where the field is absent or null.
//   - contains on text is a LIKE '%value%' (case-insensitive for ASCII,
//     like SonicJS); on arrays and multiselects it is array membership.
//   - A status other than published under ListOptions.PublishedOnly gives
//     an empty page rather than an error: the filters are ANDed.
//   - Included items obey the list's visibility (published only, one
//     author) and must belong to the field's target collection.

import (
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/condohq/condo"
)

// Limits of a list query.
const (
	// DefaultListLimit is the page size when limit is not given.
	DefaultListLimit = 50
	// MaxListLimit is the largest page size.
	MaxListLimit = 1000

	maxWhereDepth      = 4     // nesting of and/or groups
	maxWhereConditions = 50    // conditions in one where
	maxListValues      = 100   // entries of an in/not_in list
	maxSortKeys        = 5     // keys of sort, before the id tie-breaker
	maxIncludes        = 10    // fields of include=
	maxCursorBytes     = 4096  // an encoded cursor
	maxIncludeIDs      = 30000 // referenced ids read at once (SQLite binds at most 32766)
)

// ListQuery is a parsed and checked list query. Build it with
// ParseListQuery; the zero value lists the newest items, DefaultListLimit
// at a time.
type ListQuery struct {
	// Limit is the page size, 1 to MaxListLimit; zero means DefaultListLimit.
	Limit int
	// Offset is how many rows to skip; zero when a cursor is given.
	Offset int
	// Status keeps the items in one workflow status; "" keeps all.
	Status string
	// Fields, when not nil, are the top-level data keys to keep in each
	// item's data (the item's own fields are always there).
	Fields []string
	// Include names the reference fields to expand, one level deep, as
	// ParseListQuery checked them (setting it by hand expands nothing).
	Include []string

	where    string // SQL over content c, "" for none
	args     []any  // where's parameters
	sort     []sortKey
	includes []includeField
	cursor   *cursor
}

// ListOptions are the caller's constraints on a list, beyond the query.
type ListOptions struct {
	// CollectionID is the collection listed.
	CollectionID string
	// PublishedOnly keeps published items, for readers without rights to
	// drafts.
	PublishedOnly bool
	// AuthorID keeps this author's items; "" keeps everyone's.
	AuthorID string
	// CanRead says whether the caller may read items of a collection, by
	// name; include= drops the referenced items it refuses. Nil allows all.
	CanRead func(collection string) bool
	// Counts, when set, remembers totals by query, so a repeated list does
	// not count its matches again. The caller ties it to the tenant's data
	// (dropping it on every write), so a remembered total is never stale.
	Counts Counts
}

// Counts remembers list totals by key.
type Counts interface {
	Get(key string) (int, bool)
	Put(key string, total int)
}

// Page is one page of a list.
type Page struct {
	Items  []*Item
	Total  int // items matching the query, all pages together
	Limit  int
	Offset int
	// NextCursor continues after the last item; set when the page is full.
	NextCursor string
}

func invalidQuery(format string, args ...any) error {
	return condo.ReasonErrorf(condo.EINVALID, "invalid_query", format, args...)
}

// ParseListQuery reads and checks the list parameters of a request against
// a collection's schema. Every problem is EINVALID (invalid_query) and
// names the parameter, field or operator at fault.
func ParseListQuery(v url.Values, s *Schema) (*ListQuery, error) {
	q := &ListQuery{}
	var err error
	if q.Limit, err = intParam(v, "limit", DefaultListLimit, 1, MaxListLimit); err != nil {
		return nil, err
	}
	if q.Offset, err = intParam(v, "offset", 0, 0, math.MaxInt32); err != nil {
		return nil, err
	}
	if raw := strings.TrimSpace(v.Get("where")); raw != "" {
		if q.where, q.args, err = parseWhere(raw, s); err != nil {
			return nil, err
		}
	}
	if q.sort, err = parseSort(v.Get("sort"), s); err != nil {
		return nil, err
	}
	if st := v.Get("status"); st != "" {
		switch st {
		case StatusDraft, StatusReview, StatusPublished, StatusArchived:
			q.Status = st
		default:
			return nil, invalidQuery("status must be draft, review, published or archived")
		}
	}
	if raw := v.Get("fields"); strings.TrimSpace(raw) != "" {
		if q.Fields, err = parseFields(raw, s); err != nil {
			return nil, err
		}
	}
	if raw := v.Get("include"); raw != "" {
		if q.includes, err = parseInclude(raw, s); err != nil {
			return nil, err
		}
		for _, in := range q.includes {
			q.Include = append(q.Include, in.name)
		}
	}
	if raw := v.Get("cursor"); raw != "" {
		if q.Offset != 0 {
			return nil, invalidQuery("cursor and offset cannot be used together")
		}
		if q.cursor, err = decodeCursor(raw, len(q.keys())); err != nil {
			return nil, err
		}
	}
	return q, nil
}

func intParam(v url.Values, name string, def, lo, hi int) (int, error) {
	raw := strings.TrimSpace(v.Get(name))
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, invalidQuery("%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}
