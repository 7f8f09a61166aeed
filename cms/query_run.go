package cms

// Running a list query: the statements, the read transaction, and the
// shaping (include=, fields=) of the page read.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// List reads one page of a collection's live items. It returns EINVALID
// (invalid_query) for a cursor made by another query.
func (s *Store) List(ctx context.Context, q *ListQuery, opt ListOptions) (*Page, error) {
	if q == nil {
		q = &ListQuery{}
	}
	st, err := q.statements(opt)
	if err != nil {
		return nil, err
	}
	page := &Page{Items: []*Item{}, Limit: st.limit, Offset: st.offset}
	var last []any
	args, _ := json.Marshal(st.countArgs) // unambiguous, unlike fmt's spaces
	countKey := st.count + "\x00" + string(args)
	// A store of a Cache remembers totals by query, so a repeated list
	// does not count its matches again; every write drops them.
	counts := s.totals()
	var counted bool
	page.Total, counted = counts.get(countKey)
	// Both statements are kept prepared: parsing the page's against the
	// tenant schema cost about a third of a list. With the total
	// remembered, the page alone needs no transaction.
	// Prepared before the transaction: preparing takes a connection of
	// the pool, which the transaction may hold the last of.
	pageStmt := s.DB.ReadStmt(ctx, st.page)
	var countStmt *sql.Stmt
	if !counted {
		countStmt = s.DB.ReadStmt(ctx, st.count)
	}
	read := func(tx *sql.Tx) error {
		if !counted {
			var err error
			if cs := countStmt; cs != nil {
				err = tx.StmtContext(ctx, cs).QueryRowContext(ctx, st.countArgs...).Scan(&page.Total)
			} else {
				err = tx.QueryRowContext(ctx, st.count, st.countArgs...).Scan(&page.Total)
			}
			if err != nil {
				return fmt.Errorf("count items: %w", err)
			}
		}
		var rows *sql.Rows
		var err error
		switch {
		case tx == nil && pageStmt != nil:
			rows, err = pageStmt.QueryContext(ctx, st.pageArgs...)
		case tx == nil:
			rows, err = s.DB.Reader().QueryContext(ctx, st.page, st.pageArgs...)
		case pageStmt != nil:
			rows, err = tx.StmtContext(ctx, pageStmt).QueryContext(ctx, st.pageArgs...)
		default:
			rows, err = tx.QueryContext(ctx, st.page, st.pageArgs...)
		}
		if err != nil {
			return fmt.Errorf("list items: %w", err)
		}
		defer rows.Close()
		// The sort keys follow the item's columns; the last row's make the
		// next cursor.
		vals := make([]any, st.nkeys)
		dest := make([]any, st.nkeys)
		for i := range vals {
			dest[i] = &vals[i]
		}
		for rows.Next() {
			it, err := scanItem(rows, dest...)
			if err != nil {
				return fmt.Errorf("list items: %w", err)
			}
			page.Items = append(page.Items, it)
			last = slices.Clone(vals)
		}
		return rows.Err()
	}
	if counted {
		err = read(nil)
	} else {
		// One read transaction: the total and the page see the same snapshot.
		err = readTx(ctx, s, read)
	}
	if err != nil {
		return nil, err
	}
	if !counted {
		counts.put(countKey, page.Total)
	}
	if len(page.Items) == st.limit && last != nil {
		page.NextCursor = encodeCursor(st.hash, last)
	}
	if err := s.shape(ctx, q, opt, page.Items); err != nil {
		return nil, err
	}
	return page, nil
}

// listStatements are the SQL of one list: the count and the page.
type listStatements struct {
	count     string
	countArgs []any
	page      string // selects itemColumns then the nkeys sort keys
	pageArgs  []any
	nkeys     int
	limit     int
	offset    int
	hash      string // of the query, for cursors
}

func (q *ListQuery) statements(opt ListOptions) (*listStatements, error) {
	st := &listStatements{limit: q.Limit, offset: q.Offset, hash: q.hash(opt.CollectionID)}
	if st.limit <= 0 {
		st.limit = DefaultListLimit
	}
	st.limit = min(st.limit, MaxListLimit)
	keys := q.keys()
	st.nkeys = len(keys)

	// The collection and the trash test appear literally so that partial
	// expression indexes (WHERE deleted_at IS NULL) apply.
	conds := []string{"c.collection_id = ?", "c.deleted_at IS NULL"}
	args := []any{opt.CollectionID}
	if opt.PublishedOnly {
		conds = append(conds, "c.status = 'published'")
	}
	if opt.AuthorID != "" {
		conds = append(conds, "c.author_id = ?")
		args = append(args, opt.AuthorID)
	}
	if q.Status != "" {
		conds = append(conds, "c.status = ?")
		args = append(args, q.Status)
	}
	base, baseArgs := strings.Join(conds, " AND "), args
	filter, whereArgs := base, args
	if q.where != "" {
		filter += " AND (" + q.where + ")"
		whereArgs = append(slices.Clip(args), q.args...)
	}
	st.count, st.countArgs = "SELECT count(*) FROM content c WHERE "+filter, whereArgs

	st.pageArgs = whereArgs
	if q.cursor != nil {
		if q.cursor.hash != st.hash || len(q.cursor.keys) != len(keys) {
			return nil, invalidQuery("cursor belongs to another query: keep where, sort and status, or start over")
		}
		// The keyset comes before the where: of two lower bounds on an
		// indexed expression, SQLite seeks with the first it meets.
		pred, predArgs := keysetAfter(keys, q.cursor.keys)
		filter = base + " AND " + pred
		st.pageArgs = append(slices.Clip(baseArgs), predArgs...)
		if q.where != "" {
			filter += " AND (" + q.where + ")"
			st.pageArgs = append(st.pageArgs, q.args...)
		}
		st.offset = 0
	}
	st.pageArgs = slices.Clone(st.pageArgs)
	exprs, order := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		exprs[i], order[i] = k.expr, k.expr+" ASC"
		if k.desc {
			order[i] = k.expr + " DESC"
		}
	}
	// CROSS JOIN keeps content the outer loop (SQLite does not reorder
	// it), so an index on content can give the order and LIMIT stops early.
	st.page = "SELECT " + itemColumns + ", " + strings.Join(exprs, ", ") +
		" FROM content c CROSS JOIN collections col ON col.id = c.collection_id WHERE " + filter +
		" ORDER BY " + strings.Join(order, ", ") + " LIMIT ? OFFSET ?"
	st.pageArgs = append(st.pageArgs, st.limit, st.offset)
	return st, nil
}

func readTx(ctx context.Context, s *Store, fn func(*sql.Tx) error) error {
	tx, err := s.DB.Reader().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// shape expands include= and applies fields= to a page's items.
func (s *Store) shape(ctx context.Context, q *ListQuery, opt ListOptions, items []*Item) error {
	if len(q.includes) == 0 && q.Fields == nil {
		return nil
	}
	datas := make([]map[string]json.RawMessage, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it.Data, &datas[i]); err != nil {
			return fmt.Errorf("read data of %s: %w", it.ID, err)
		}
	}
	if len(q.includes) > 0 {
		if err := s.include(ctx, q.includes, opt, items, datas); err != nil {
			return err
		}
	}
	if q.Fields != nil {
		for i, it := range items {
			kept := make(map[string]json.RawMessage, len(q.Fields))
			for _, k := range q.Fields {
				if v, ok := datas[i][k]; ok {
					kept[k] = v
				}
			}
			b, err := json.Marshal(kept)
			if err != nil {
				return err
			}
			it.Data = b
		}
	}
	return nil
}

// include puts the items that reference fields point at in
// Item.Included: one item (or null) for a reference, a list for an array
// of references. Referenced items the caller may not see are left out.
func (s *Store) include(ctx context.Context, fields []includeField, opt ListOptions, items []*Item, datas []map[string]json.RawMessage) error {
	refs := make([]map[string][]string, len(items)) // item → field → ids
	var ids []string
	seen := map[string]bool{}
	for i := range items {
		refs[i] = map[string][]string{}
		for _, f := range fields {
			got := refIDs(datas[i][f.name], f.many)
			refs[i][f.name] = got
			for _, id := range got {
				if !seen[id] && len(ids) < maxIncludeIDs {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		}
	}
	found, err := s.itemsByID(ctx, ids)
	if err != nil {
		return fmt.Errorf("read included items: %w", err)
	}
	visible := func(f includeField, it *Item) bool {
		switch {
		case it == nil:
			return false
		case f.collection != "" && it.Collection != f.collection:
			return false
		case opt.PublishedOnly && it.Status != StatusPublished:
			return false
		case opt.AuthorID != "" && it.AuthorID != opt.AuthorID:
			return false
		case opt.CanRead != nil && !opt.CanRead(it.Collection):
			return false
		}
		return true
	}
	for i, it := range items {
		for _, f := range fields {
			if it.Included == nil {
				it.Included = map[string]any{}
			}
			if !f.many {
				it.Included[f.name] = nil
				if got := refs[i][f.name]; len(got) > 0 && visible(f, found[got[0]]) {
					it.Included[f.name] = found[got[0]]
				}
				continue
			}
			list := []*Item{}
			for _, id := range refs[i][f.name] {
				if visible(f, found[id]) {
					list = append(list, found[id])
				}
			}
			it.Included[f.name] = list
		}
	}
	return nil
}

// refIDs reads the ids of a reference value: "id" or {"id": "..."}, or a
// list of them.
func refIDs(raw json.RawMessage, many bool) []string {
	if len(raw) == 0 {
		return nil
	}
	one := func(raw json.RawMessage) string {
		var id string
		if json.Unmarshal(raw, &id) == nil {
			return id
		}
		var obj struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &obj) == nil {
			return obj.ID
		}
		return ""
	}
	if !many {
		if id := one(raw); id != "" {
			return []string{id}
		}
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []string
	for _, e := range list {
		if id := one(e); id != "" {
			out = append(out, id)
		}
	}
	return out
}
