package sonicjs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/condohq/condo"
	"github.com/condohq/condo/cms"
)

// item is one SonicJS content row on its way in.
type item struct {
	id, slug, title, status, author string
	data                            map[string]any
	created, updated                int64
	publishedAt, publishAt, unpub   *int64
	trashed                         bool
	versions                        []version
	history                         []history
}

type version struct {
	n       int64
	data    map[string]any
	author  string
	created int64
}

type history struct {
	id, action, from, to, user, comment string
	created                             int64
}

// statuses maps SonicJS's content statuses to Condo's workflow; "deleted"
// (SonicJS's soft delete) and "scheduled" are handled apart.
var statuses = map[string]string{
	"draft": cms.StatusDraft, "review": cms.StatusReview, "published": cms.StatusPublished, "archived": cms.StatusArchived,
	"pending": cms.StatusReview, "pending-review": cms.StatusReview, "pending_review": cms.StatusReview, "in_review": cms.StatusReview,
	"approved": cms.StatusReview, "rejected": cms.StatusDraft, "scheduled": cms.StatusDraft,
}

// resolver answers validation's existence questions from what is being
// imported, so references to items later in the file count.
type resolver struct{ im *importer }

func (r resolver) ItemExists(_ context.Context, collection, id string) (bool, error) {
	return r.im.items[id] == collection, nil
}

func (r resolver) MediaExists(_ context.Context, id string) (bool, error) { return r.im.media[id], nil }

func (im *importer) importContent(ctx context.Context) error {
	type coll struct {
		id, name, display, description, schema string
		created, updated                       int64
		active                                 bool
	}
	var cols []coll
	names := map[string]string{} // SonicJS collection id -> Condo name
	taken := map[string]bool{}
	err := im.src.each(ctx, "collections", []string{"id", "name", "display_name", "description", "schema", "is_active", "created_at", "updated_at"},
		"created_at, id", func(r row) error {
			c := coll{id: r.str("id"), display: r.str("display_name"), description: r.str("description"), schema: r.str("schema"),
				active: r.num("is_active", 1) != 0}
			c.created = r.msOr("created_at", im.now)
			c.updated = r.msOr("updated_at", c.created)
			name := strings.ToLower(r.str("name"))
			if !cms.ValidCollectionName(name) {
				name = strings.ToLower(cleanName(name))
				if name[0] < 'a' || name[0] > 'z' {
					name = "c_" + name
				}
				name = cut(name, 63)
			}
			for base, i := name, 2; taken[name]; i++ {
				name = fmt.Sprintf("%s_%d", cut(base, 58), i)
			}
			if name != r.str("name") {
				im.rep.Changed = append(im.rep.Changed, fmt.Sprintf("collection %q is named %q (lower-case letters, digits and _, starting with a letter)", r.str("name"), name))
			}
			taken[name] = true
			c.name = name
			names[c.id] = name
			cols = append(cols, c)
			return nil
		})
	if err != nil {
		return err
	}
	// Every item's collection first, for references between items.
	var orphans int
	err = im.src.each(ctx, "content", []string{"id", "collection_id"}, "", func(r row) error {
		if n, ok := names[r.str("collection_id")]; ok {
			im.items[r.str("id")] = n
		} else {
			orphans++
		}
		return nil
	})
	if err != nil {
		return err
	}
	im.drop("content", orphans, "their collection does not exist")
	items, err := im.readItems(ctx, names)
	if err != nil {
		return err
	}
	for _, c := range cols {
		if !c.active {
			im.rep.Changed = append(im.rep.Changed, fmt.Sprintf("collection %s was inactive in SonicJS: Condo has no inactive collections, so it serves like the others", c.name))
		}
		if err := im.importCollection(ctx, c.name, c.display, c.description, c.schema, c.created, c.updated, items[c.name]); err != nil {
			return fmt.Errorf("collection %s: %w", c.name, err)
		}
	}
	if im.rep.Mapped.Collections > 0 {
		im.rep.Notes = append(im.rep.Notes, "collections are private, as Condo's are by default (SonicJS's public API read every collection): make one public with PUT /api/collections/NAME {\"public\": true}")
	}
	return nil
}

// readItems reads content with its versions and workflow history, by
// Condo collection name.
func (im *importer) readItems(ctx context.Context, names map[string]string) (map[string][]*item, error) {
	byID := map[string]*item{}
	out := map[string][]*item{}
	var badData int
	err := im.src.each(ctx, "content", []string{"id", "collection_id", "slug", "title", "data", "status", "published_at", "author_id",
		"created_at", "updated_at", "scheduled_publish_at", "scheduled_unpublish_at"}, "created_at, id", func(r row) error {
		name, ok := names[r.str("collection_id")]
		if !ok {
			return nil
		}
		it := &item{id: r.str("id"), slug: r.str("slug"), title: r.str("title"), status: strings.ToLower(r.str("status")),
			author: r.str("author_id"), publishedAt: r.ms("published_at"), publishAt: r.ms("scheduled_publish_at"),
			unpub: r.ms("scheduled_unpublish_at")}
		it.created = r.msOr("created_at", im.now)
		it.updated = r.msOr("updated_at", it.created)
		if json.Unmarshal([]byte(r.str("data")), &it.data) != nil || it.data == nil {
			badData++
			it.data = map[string]any{}
			if s := r.str("data"); s != "" && s != "null" {
				it.data["sonicjs_data"] = s
			}
		}
		byID[it.id] = it
		out[name] = append(out[name], it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if badData > 0 {
		im.rep.Changed = append(im.rep.Changed, fmt.Sprintf("%d items' data was not a JSON object: kept as text in their sonicjs_data field", badData))
	}
	var orphanVersions, dupVersions int
	seen := map[string]bool{}
	err = im.src.each(ctx, "content_versions", []string{"content_id", "version", "data", "author_id", "created_at"}, "content_id, version, created_at",
		func(r row) error {
			it := byID[r.str("content_id")]
			if it == nil {
				orphanVersions++
				return nil
			}
			n := r.num("version", 0)
			key := fmt.Sprintf("%s/%d", it.id, n)
			if n < 1 || seen[key] {
				dupVersions++
				return nil
			}
			seen[key] = true
			v := version{n: n, author: r.str("author_id"), created: r.msOr("created_at", it.created)}
			if json.Unmarshal([]byte(r.str("data")), &v.data) != nil || v.data == nil {
				v.data = map[string]any{"sonicjs_data": r.str("data")}
			}
			it.versions = append(it.versions, v)
			return nil
		})
	if err != nil {
		return nil, err
	}
	im.drop("content_versions", orphanVersions, "their item was not imported")
	im.drop("content_versions", dupVersions, "a version number the item already had (or below 1)")
	// Installations whose workflow_history came from SonicJS's stage-7
	// migration name states rather than statuses.
	from, to := "from_status", "to_status"
	if !im.src.has("workflow_history", from) && im.src.has("workflow_history", "from_state_id") {
		from, to = "from_state_id", "to_state_id"
	}
	var orphanHistory int
	err = im.src.each(ctx, "workflow_history", []string{"id", "content_id", "action", from, to, "user_id", "comment", "created_at"}, "created_at, id",
		func(r row) error {
			it := byID[r.str("content_id")]
			if it == nil {
				orphanHistory++
				return nil
			}
			it.history = append(it.history, history{id: r.str("id"), action: orDefault(r.str("action"), "transition"), from: orDefault(r.str(from), "none"),
				to: r.str(to), user: r.str("user_id"), comment: r.str("comment"), created: r.msOr("created_at", it.created)})
			return nil
		})
	im.drop("workflow_history", orphanHistory, "their item was not imported")
	return out, err
}

// renameKeys applies a collection's field renames to data, and makes any
// other key that is not a Condo field name one.
func renameKeys(data map[string]any, renames map[string]string) map[string]any {
	out := make(map[string]any, len(data))
	for k, v := range data {
		if n, ok := renames[k]; ok {
			k = n
		} else if !cms.ValidFieldName(k) {
			n = cleanName(k)
			renames[k] = n
			k = n
		}
		for _, dup := out[k]; dup; _, dup = out[k] {
			k += "_"
		}
		out[k] = v
	}
	return out
}

func (im *importer) importCollection(ctx context.Context, name, display, description, schema string, created, updated int64, items []*item) error {
	m := mapSchema(schema)
	titled := false
	if f, ok := m.schema.Lookup("title"); ok && f.Type != cms.TypeObject {
		titled = true // Condo keeps an item's title in its data's title field too
	}
	var datas []map[string]any
	for _, it := range items {
		it.data = renameKeys(it.data, m.renames)
		if _, ok := it.data["title"]; titled && !ok {
			it.data["title"] = it.title
		}
		datas = append(datas, it.data)
		for i := range it.versions {
			v := &it.versions[i]
			v.data = renameKeys(v.data, m.renames)
			if _, ok := v.data["title"]; titled && !ok {
				v.data["title"] = it.title
			}
			datas = append(datas, v.data)
		}
	}
	renamed := make([]string, 0, len(m.renames))
	for k := range m.renames {
		renamed = append(renamed, k)
	}
	sort.Strings(renamed)
	for _, k := range renamed {
		if !strings.Contains(strings.Join(m.changes, "\n"), fmt.Sprintf("%q", k)) {
			m.changes = append(m.changes, fmt.Sprintf("data field %q renamed %q (Condo field names are identifiers)", k, m.renames[k]))
		}
	}
	res := resolver{im}
	if err := m.fit(ctx, datas, res); err != nil {
		return err
	}
	for _, c := range m.changes {
		im.rep.Changed = append(im.rep.Changed, "collection "+name+": "+c)
	}
	raw, err := json.Marshal(m.schema)
	if err != nil {
		return err
	}
	col, err := im.cms.CreateCollection(ctx, cms.NewCollection{Name: name, DisplayName: label(orDefault(display, name), 200),
		Description: label(description, 2000), Schema: raw})
	if err != nil {
		return err
	}
	im.rep.Mapped.Collections++
	return im.db.Transact(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE collections SET created_at = ?, updated_at = ? WHERE id = ?", created, updated, col.ID); err != nil {
			return err
		}
		used := map[string]bool{}
		var slugs, trashed, otherStatus, pastSchedule, versions int
		dropped := map[string]int{}
		for _, it := range items {
			n, err := im.insertItem(ctx, tx, col, it, used, res)
			if err != nil {
				return fmt.Errorf("item %s: %w", it.id, err)
			}
			if n.dropped != "" {
				dropped[n.dropped]++
				continue
			}
			slugs += n.slug
			versions += n.versions
			trashed += n.trashed
			otherStatus += n.status
			pastSchedule += n.past
		}
		for _, c := range []struct {
			n    int
			what string
		}{
			{slugs, "slugs were made lower-case letters, digits and single dashes, or numbered to be unique (Condo's slug rule)"},
			{trashed, "items deleted in SonicJS (status deleted) are in the trash, from the import's time, so the trash retention starts now"},
			{otherStatus, "items had a status Condo's workflow does not have: mapped to review (pending, approved) or draft (rejected, scheduled, others)"},
			{pastSchedule, "items' scheduled publish or unpublish times had passed without SonicJS acting on them: not scheduled"},
		} {
			if c.n > 0 {
				im.rep.Changed = append(im.rep.Changed, fmt.Sprintf("collection %s: %d %s", name, c.n, c.what))
			}
		}
		im.drop("content_versions", versions, "their data does not fit even a json field (nested deeper than Condo stores)")
		whys := make([]string, 0, len(dropped))
		for why := range dropped {
			whys = append(whys, why)
		}
		sort.Strings(whys)
		for _, why := range whys {
			im.drop("content", dropped[why], "in collection "+name+", data Condo cannot store: "+why)
		}
		return nil
	})
}

// itemChanges is what insertItem changed or left out of one item.
type itemChanges struct {
	slug, trashed, status, past, versions int
	dropped                               string // why the item was left out; "" when it was imported
}

func (im *importer) insertItem(ctx context.Context, tx *sql.Tx, col *cms.Collection, it *item, used map[string]bool, res resolver) (itemChanges, error) {
	var ch itemChanges
	status, ok := statuses[it.status]
	switch {
	case it.status == "deleted":
		status, it.trashed = cms.StatusDraft, true
		ch.trashed = 1
	case !ok:
		status = cms.StatusDraft
		ch.status = 1
	case it.status != status:
		ch.status = 1
	}
	slug := cms.Slugify(it.slug)
	if slug == "" {
		slug = cms.Slugify(it.title)
	}
	if slug == "" {
		slug = "item"
	}
	for base, i := slug, 2; used[slug]; i++ {
		slug = fmt.Sprintf("%s-%d", base, i)
	}
	used[slug] = true
	if slug != it.slug {
		ch.slug = 1
	}
	title := plain(it.title, 500)
	data, bad, err := col.Schema.Validate(ctx, it.data, res)
	if err != nil {
		return ch, err
	}
	if len(bad) > 0 {
		// What even a json field refuses (data nested past SQLite's limit).
		ch.dropped = firstProblem(bad)
		return ch, nil
	}
	raw := json.RawMessage(mustJSON(data))
	var publishAt, unpublishAt *int64
	if status != cms.StatusPublished && it.publishAt != nil {
		if *it.publishAt > im.now {
			publishAt = it.publishAt
		} else {
			ch.past = 1
		}
	}
	if status == cms.StatusPublished && it.unpub != nil {
		if *it.unpub > im.now {
			unpublishAt = it.unpub
		} else {
			ch.past = 1
		}
	}
	publishedAt := it.publishedAt
	if status == cms.StatusPublished && publishedAt == nil {
		publishedAt = &it.updated
	}
	var deletedAt *int64
	if it.trashed {
		deletedAt = &im.now
	}
	author := it.author
	if !im.users[author] {
		author = ""
	}

	// Versions: SonicJS's, then the current state as the latest if it is
	// not what the last one holds (SonicJS records a version only when the
	// data changes; Condo's latest version is always the item as it is).
	sort.Slice(it.versions, func(i, j int) bool { return it.versions[i].n < it.versions[j].n })
	var last string
	var n int64
	type row struct {
		n       int64
		snap    string
		author  string
		created int64
	}
	var rows []row
	for _, v := range it.versions {
		vdata, bad, err := col.Schema.Validate(ctx, v.data, res)
		if err != nil {
			return ch, err
		}
		if len(bad) > 0 {
			ch.versions++
			continue
		}
		vtitle := title
		if t, ok := vdata["title"].(string); ok && t != "" {
			vtitle = plain(t, 500)
		}
		snap := cms.VersionData(&cms.Item{Title: vtitle, Slug: slug, Status: statusAt(it, v.created, status), Data: json.RawMessage(mustJSON(vdata))})
		rows = append(rows, row{v.n, snap, v.author, v.created})
		last, n = snap, v.n
	}
	cur := cms.VersionData(&cms.Item{Title: title, Slug: slug, Status: status, Data: raw, PublishAt: msTime(publishAt), UnpublishAt: msTime(unpublishAt)})
	if cur != last {
		n++
		rows = append(rows, row{n, cur, it.author, it.updated})
	}
	if _, err := im.db.ExecTx(ctx, tx, `INSERT INTO content (id, collection_id, slug, title, data, status, published_at, author_id, created_at,
		updated_at, publish_at, unpublish_at, deleted_at, version, search_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		it.id, col.ID, slug, title, string(raw), status, publishedAt, nullStr(author), it.created, it.updated, publishAt, unpublishAt,
		deletedAt, n, cms.SearchText(raw)); err != nil {
		return ch, err
	}
	im.rep.Mapped.Content++
	for _, r := range rows {
		if _, err := im.db.ExecTx(ctx, tx, "INSERT INTO content_versions (content_id, version, data, author_id, created_at) VALUES (?, ?, ?, ?, ?)",
			it.id, r.n, r.snap, nullStr(r.author), r.created); err != nil {
			return ch, err
		}
		im.rep.Mapped.Versions++
	}
	for _, h := range it.history {
		id := h.id
		if id == "" {
			id = condo.NewID()
		}
		q := `INSERT INTO workflow_history (id, content_id, action, from_status, to_status, user_id, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
		_, err := im.db.ExecTx(ctx, tx, q, id, it.id, h.action, h.from, h.to, nullStr(h.user), h.comment, h.created)
		if im.db.IsUnique(err) {
			_, err = im.db.ExecTx(ctx, tx, q, condo.NewID(), it.id, h.action, h.from, h.to, nullStr(h.user), h.comment, h.created)
		}
		if err != nil {
			return ch, err
		}
		im.rep.Mapped.Workflow++
	}
	return ch, nil
}

// statusAt is an item's status at a time, from its workflow history (the
// last move at or before it), else its status now.
func statusAt(it *item, at int64, now string) string {
	s := ""
	for _, h := range it.history {
		if h.created <= at {
			s = h.to
		}
	}
	if m, ok := statuses[strings.ToLower(s)]; ok {
		return m
	}
	return now
}

func msTime(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := condo.FromUnixMS(*v)
	return &t
}

// firstProblem names one of an item's validation problems, the same one
// for the same data.
func firstProblem(bad cms.FieldErrors) string {
	paths := make([]string, 0, len(bad))
	for p := range bad {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return clip(paths[0]+" "+bad[paths[0]], 200)
}

// label makes text what a collection's display name or description may
// be: valid UTF-8 without NUL or CR, at most n bytes.
func label(s string, n int) string {
	s = strings.NewReplacer("\x00", "", "\r", "").Replace(strings.ToValidUTF8(s, "?"))
	return clip(s, n)
}

// plain makes text a title or a name: valid UTF-8, control characters
// made spaces, at most n bytes.
func plain(s string, n int) string {
	return clip(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?")), n)
}
