package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/metrics"
)

// contentRoutes registers collections, content, versions, workflow, the
// trash and search. Reads of published items in public collections are
// open to anyone; everything else checks its permission in the handler,
// since what a read needs depends on what is read.
func (s *Server) contentRoutes() {
	s.tenantRoute(http.MethodGet, "/api/collections", s.listCollections, anyone)
	s.tenantRoute(http.MethodPost, "/api/collections", s.createCollection, auth.CollectionsCreate)
	s.tenantRoute(http.MethodGet, "/api/collections/:name", s.getCollection, anyone)
	s.tenantRoute(http.MethodPut, "/api/collections/:name", s.updateCollection, auth.CollectionsUpdate)
	s.tenantRoute(http.MethodDelete, "/api/collections/:name", s.deleteCollection, auth.CollectionsDelete)
	s.tenantRoute(http.MethodGet, "/api/collections/:name/content", s.listContent, anyone)
	s.tenantRoute(http.MethodPost, "/api/collections/:name/content", s.createContent, auth.ContentCreate)
	s.tenantRoute(http.MethodGet, "/api/content/:id", s.getContent, anyone)
	s.tenantRoute(http.MethodPut, "/api/content/:id", s.replaceContent, auth.ContentUpdate)
	s.tenantRoute(http.MethodPatch, "/api/content/:id", s.patchContent, auth.ContentUpdate)
	s.tenantRoute(http.MethodDelete, "/api/content/:id", s.deleteContent, auth.ContentDelete)
	s.tenantRoute(http.MethodPost, "/api/content/:id/transition", s.transitionContent, signedIn)
	s.tenantRoute(http.MethodGet, "/api/content/:id/history", s.contentHistory, auth.ContentReadDrafts)
	s.tenantRoute(http.MethodGet, "/api/content/:id/versions", s.listVersions, auth.ContentReadDrafts)
	s.tenantRoute(http.MethodGet, "/api/content/:id/versions/:n", s.getVersion, auth.ContentReadDrafts)
	s.tenantRoute(http.MethodGet, "/api/content/:id/diff", s.diffVersions, auth.ContentReadDrafts)
	s.tenantRoute(http.MethodPost, "/api/content/:id/versions/:n/restore", s.restoreVersion, auth.ContentUpdate)
	s.tenantRoute(http.MethodGet, "/api/trash", s.listTrash, auth.ContentDelete)
	s.tenantRoute(http.MethodPost, "/api/trash/:id/restore", s.restoreTrash, auth.ContentDelete)
	s.tenantRoute(http.MethodDelete, "/api/trash/:id", s.purgeTrash, auth.ContentDelete)
	s.tenantRoute(http.MethodGet, "/api/search", s.search, anyone)
}

// withContent runs fn with the content store of the request's tenant.
func (s *Server) withContent(c echo.Context, fn func(ctx context.Context, st *cms.Store) error) error {
	t := tenantOf(c)
	return s.withTenantDB(c, func(ctx context.Context, h tenantHandle) error {
		return fn(ctx, s.content.Store(t.ID, h.DB, s.store.MediaDir(t.ID)))
	})
}

// can reports whether the request's principal holds perm.
func can(c echo.Context, perm string) bool {
	p := principalOf(c)
	return p != nil && p.Perms.Has(perm)
}

// need refuses the request unless its principal holds perm: 401 for an
// anonymous one, 403 (recorded) for one without it.
func (s *Server) need(c echo.Context, perm string) error {
	return s.require(perm)(func(echo.Context) error { return nil })(c)
}

// mayEdit refuses authors (own_content_only roles) another user's item.
func mayEdit(c echo.Context, it *cms.Item) error {
	p := principalOf(c)
	if p.Role.OwnOnly && it.AuthorID != p.UserID {
		return condo.ReasonErrorf(condo.EFORBIDDEN, "permission_denied", "your role edits only the content you created")
	}
	return nil
}

// changed records that the request changed the tenant's content, before
// it answers: the scheduler learns the tenant's next due time. (Cached
// reads went when the write committed: the store is one of s.content's.)
func (s *Server) changed(c echo.Context, ctx context.Context, st *cms.Store) {
	next, err := st.NextDue(ctx, cms.TrashRetention)
	if err == nil {
		err = s.catalog.SetContentDue(context.WithoutCancel(ctx), st.TenantID, next)
	}
	if err != nil {
		logger(c).Error("record next scheduled content work", "err", err)
	}
}

func (s *Server) listCollections(c echo.Context) error {
	all := can(c, auth.CollectionsRead)
	var out []*cms.Collection
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		cols, err := st.Collections(ctx)
		for _, col := range cols {
			if all || col.Public {
				out = append(out, col)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	if out == nil {
		out = []*cms.Collection{}
	}
	setCacheControl(c, readCacheControl(c, cms.CachePolicy{}))
	return sendTagged(c, http.StatusOK, map[string]any{"data": out})
}

func (s *Server) createCollection(c echo.Context) error {
	var in cms.NewCollection
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	var col *cms.Collection
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) (err error) {
		col, err = st.CreateCollection(ctx, in)
		return err
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "collection.created", col.Name, nil)
	c.Response().Header().Set("ETag", collectionETag(col))
	return c.JSON(http.StatusCreated, map[string]any{"data": col})
}

// collection reads the named collection, refusing a private one to a
// principal without perm (collections.read for the schema, content.read
// for its items); anonymous callers get not found, so names do not leak.
func (s *Server) collection(c echo.Context, ctx context.Context, st *cms.Store, name, perm string) (*cms.Collection, error) {
	col, err := st.CachedCollection(ctx, name)
	if err != nil {
		return nil, err
	}
	if !col.Public && !can(c, perm) {
		if principalOf(c) == nil {
			return nil, condo.ReasonErrorf(condo.ENOTFOUND, "collection_not_found", "collection %q not found", name)
		}
		return nil, s.need(c, perm)
	}
	return col, nil
}

// readable reports whether the request may read items of a collection
// (include= drops those it may not).
func (s *Server) readable(c echo.Context, ctx context.Context, st *cms.Store) func(string) bool {
	return func(name string) bool {
		col, err := st.CachedCollection(ctx, name)
		return err == nil && (col.Public || can(c, auth.ContentRead))
	}
}

// readableItem loads the addressed item (by id, or slug with optional
// ?collection=) for a read: drafts need content.read_drafts, items of a
// private collection content.read; anonymous callers get not found.
func (s *Server) readableItem(c echo.Context, ctx context.Context, st *cms.Store) (*cms.Item, error) {
	it, public, err := st.Item(ctx, c.Param("id"), c.QueryParam("collection"))
	if err != nil {
		return nil, err
	}
	for _, rule := range []struct {
		refused bool
		perm    string
	}{{!public && !can(c, auth.ContentRead), auth.ContentRead}, {it.Status != cms.StatusPublished && !can(c, auth.ContentReadDrafts), auth.ContentReadDrafts}} {
		if !rule.refused {
			continue
		}
		if principalOf(c) == nil {
			return nil, condo.ReasonErrorf(condo.ENOTFOUND, "content_not_found", "content %q not found", condo.Clip(c.Param("id")))
		}
		return nil, s.need(c, rule.perm)
	}
	return it, nil
}

func (s *Server) getCollection(c echo.Context) error {
	var col *cms.Collection
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) (err error) {
		col, err = s.collection(c, ctx, st, c.Param("name"), auth.CollectionsRead)
		return err
	})
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"data": col})
	if err != nil {
		return err
	}
	setCacheControl(c, readCacheControl(c, col.Cache))
	return writeTagged(c, http.StatusOK, collectionETag(col), body)
}

func (s *Server) updateCollection(c echo.Context) error {
	var in cms.CollectionUpdate
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	var col *cms.Collection
	check := collectionPrecondition(c)
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) (err error) {
		col, err = st.UpdateCollection(ctx, c.Param("name"), in, check)
		return err
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "collection.updated", col.Name, nil)
	c.Response().Header().Set("ETag", collectionETag(col))
	return c.JSON(http.StatusOK, map[string]any{"data": col})
}

// collectionPrecondition checks a write's If-Match or If-Unmodified-Since
// against the collection inside the write transaction.
func collectionPrecondition(c echo.Context) func(*cms.Collection) error {
	pre := preconditionOf(c)
	return func(cur *cms.Collection) error {
		return pre.check(c, "the collection", collectionETag(cur), cur.Version, cur.UpdatedAt)
	}
}

func (s *Server) deleteCollection(c echo.Context) error {
	check := collectionPrecondition(c)
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		return st.DeleteCollection(ctx, c.Param("name"), check)
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "collection.deleted", c.Param("name"), nil)
	return c.NoContent(http.StatusNoContent)
}

// readScope is what the request may read: published items only, unless
// its principal may read drafts; with a status filter checked against it.
func readScope(c echo.Context) (publishedOnly bool, err error) {
	drafts := can(c, auth.ContentReadDrafts)
	if st := c.QueryParam("status"); st != "" && st != cms.StatusPublished && !drafts {
		return true, condo.ReasonErrorf(condo.EFORBIDDEN, "permission_denied", "reading %s content needs content.read_drafts", st)
	}
	return !drafts, nil
}

func (s *Server) listContent(c echo.Context) error {
	t := tenantOf(c)
	anonymous := principalOf(c) == nil
	if anonymous {
		if ok, err := s.cache.serve(c, t.ID); ok || err != nil {
			return err
		}
	}
	gen := s.cache.gen(t.ID)
	publishedOnly, err := readScope(c)
	if err != nil {
		return err
	}
	var page *cms.Page
	var policy cms.CachePolicy
	err = s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		col, err := s.collection(c, ctx, st, c.Param("name"), auth.ContentRead)
		if err != nil {
			return err
		}
		policy = col.Cache
		q, err := cms.ParseListQuery(c.QueryParams(), col.Schema)
		if err != nil {
			return err
		}
		opt := cms.ListOptions{CollectionID: col.ID, PublishedOnly: publishedOnly, CanRead: s.readable(c, ctx, st)}
		page, err = st.List(ctx, q, opt)
		return err
	})
	if err != nil {
		return err
	}
	meta := map[string]any{"total": page.Total, "limit": page.Limit, "offset": page.Offset}
	if page.NextCursor != "" {
		meta["next_cursor"] = page.NextCursor
	}
	// {"data": page.Items, "meta": meta} as json.Marshal writes it, with
	// the items' stored data passed through (cms.AppendItemsJSON).
	body, err := cms.AppendItemsJSON(append(make([]byte, 0, 1024*len(page.Items)+256), `{"data":`...), page.Items)
	if err != nil {
		return err
	}
	if body, err = appendMeta(body, meta); err != nil {
		return err
	}
	return s.cache.answerBody(c, t.ID, gen, anonymous, "", readCacheControl(c, policy), body)
}

// appendMeta ends a {"data": ...} answer started in body with its "meta".
func appendMeta(body []byte, meta any) ([]byte, error) {
	m, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	body = append(append(body, `,"meta":`...), m...)
	return append(body, '}'), nil
}

func (s *Server) createContent(c echo.Context) error {
	var in cms.ItemInput
	if err := decodeItem(c, &in); err != nil {
		return err
	}
	if err := s.refused(c, mayschedule(c, nil, in.PublishAt, in.UnpublishAt)); err != nil {
		return err
	}
	if in.Status != "" && in.Status != cms.StatusDraft {
		perm, err := cms.TransitionPermission(cms.StatusDraft, in.Status)
		if err != nil {
			return err
		}
		if err := s.need(c, perm); err != nil {
			return err
		}
	}
	var it *cms.Item
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		col, err := st.Collection(ctx, c.Param("name"))
		if err != nil {
			return err
		}
		in.Plan = s.planOf(c)
		if it, err = st.CreateItem(ctx, col, in, principalOf(c).UserID); err != nil {
			if condo.ErrorReason(err) == "plan_limit_reached" {
				metrics.QuotaRejections.WithLabelValues("items").Inc()
			}
			return err
		}
		s.changed(c, ctx, st)
		return nil
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/content/"+it.ID)
	c.Response().Header().Set("ETag", itemETag(it))
	return c.JSON(http.StatusCreated, map[string]any{"data": it})
}

// getContent serves GET /api/content/:id (an id, or a slug with optional
// ?collection=): anyone may read a published item of a public collection;
// anything else needs content.read, and drafts content.read_drafts.
func (s *Server) getContent(c echo.Context) error {
	t := tenantOf(c)
	anonymous := principalOf(c) == nil
	if anonymous {
		if ok, err := s.cache.serve(c, t.ID); ok || err != nil {
			return err
		}
	}
	gen := s.cache.gen(t.ID)
	var it *cms.Item
	var policy cms.CachePolicy
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) (err error) {
		if it, err = s.readableItem(c, ctx, st); err != nil {
			return err
		}
		col, err := st.CachedCollection(ctx, it.Collection)
		if err == nil {
			policy = col.Cache
		}
		return err
	})
	if err != nil {
		return err
	}
	return s.cache.answer(c, t.ID, gen, anonymous, itemETag(it), readCacheControl(c, policy), map[string]any{"data": it})
}

// mayschedule refuses (with a refusal, see lacks) a publish_at or
// unpublish_at the principal may not set: the scheduler publishes and
// unpublishes, so setting or changing either date needs content.publish,
// as the transition would.
func mayschedule(c echo.Context, cur *cms.Item, publishAt, unpublishAt *time.Time) error {
	var was, wasUn *time.Time
	if cur != nil {
		was, wasUn = cur.PublishAt, cur.UnpublishAt
	}
	if sameTime(publishAt, was) && sameTime(unpublishAt, wasUn) {
		return nil
	}
	return lacks(c, auth.ContentPublish)
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// itemID resolves the addressed item (an id, or a slug with optional
// ?collection=) to its id. The write then reads the item again inside its
// transaction, where its checks run (see writable).
func itemID(c echo.Context, ctx context.Context, st *cms.Store) (string, error) {
	it, _, err := st.Item(ctx, c.Param("id"), c.QueryParam("collection"))
	if err != nil {
		return "", err
	}
	return it.ID, nil
}

// writable checks, inside a write transaction, that the request may change
// the item as it is there: own-only roles, then If-Match or
// If-Unmodified-Since. Permission checks come first, so a 412 (which
// shows the current version) goes only to whoever may make the change.
func writable(c echo.Context, pre precondition, cur *cms.Item) error {
	if err := mayEdit(c, cur); err != nil {
		return err
	}
	return pre.check(c, "the item", itemETag(cur), cur.Version, cur.UpdatedAt)
}

func (s *Server) replaceContent(c echo.Context) error {
	var in cms.ItemInput
	if err := decodeItem(c, &in); err != nil {
		return err
	}
	return s.writeContent(c, func(ctx context.Context, st *cms.Store, id, actor string, check func(*cms.Item) error) (*cms.Item, error) {
		return st.EditItem(ctx, id, actor, func(cur *cms.Item, _ *cms.Collection) (cms.ItemInput, error) {
			if err := mayschedule(c, cur, in.PublishAt, in.UnpublishAt); err != nil {
				return cms.ItemInput{}, err
			}
			return in, check(cur)
		})
	})
}

// patchContent serves PATCH /api/content/:id: the fields given replace the
// item's; data is merged key by key (null removes a key). The merge is
// made from the item as the write transaction reads it, so concurrent
// PATCHes of different keys all survive.
func (s *Server) patchContent(c echo.Context) error {
	var in struct {
		Title       *string        `json:"title"`
		Slug        *string        `json:"slug"`
		Status      *string        `json:"status"`
		Data        map[string]any `json:"data"`
		PublishAt   **time.Time    `json:"publish_at"`
		UnpublishAt **time.Time    `json:"unpublish_at"`
	}
	if err := decodeItem(c, &in); err != nil {
		return err
	}
	return s.writeContent(c, func(ctx context.Context, st *cms.Store, id, actor string, check func(*cms.Item) error) (*cms.Item, error) {
		return st.EditItem(ctx, id, actor, func(cur *cms.Item, _ *cms.Collection) (cms.ItemInput, error) {
			next, err := cms.Merge(cur, in.Title, in.Slug, in.Status, in.Data)
			if err != nil {
				return cms.ItemInput{}, err
			}
			if in.PublishAt != nil {
				next.PublishAt = *in.PublishAt
			}
			if in.UnpublishAt != nil {
				next.UnpublishAt = *in.UnpublishAt
			}
			if err := mayschedule(c, cur, next.PublishAt, next.UnpublishAt); err != nil {
				return cms.ItemInput{}, err
			}
			return next, check(cur)
		})
	})
}

// writeContent runs an update of the addressed item and answers with it.
// update gets the item's id, the actor and the check it must run inside
// its write transaction on the item as it is there (writable).
func (s *Server) writeContent(c echo.Context, update func(ctx context.Context, st *cms.Store, id, actor string, check func(*cms.Item) error) (*cms.Item, error)) error {
	pre := preconditionOf(c)
	check := func(cur *cms.Item) error { return writable(c, pre, cur) }
	var it *cms.Item
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		id, err := itemID(c, ctx, st)
		if err != nil {
			return err
		}
		if it, err = update(ctx, st, id, principalOf(c).UserID, check); err != nil {
			return err
		}
		s.changed(c, ctx, st)
		return nil
	})
	if err != nil {
		return s.refused(c, err)
	}
	s.audit(c, auth.CategoryAudit, "content.updated", it.ID, map[string]any{"version": it.Version})
	c.Response().Header().Set("ETag", itemETag(it))
	return c.JSON(http.StatusOK, map[string]any{"data": it})
}

// deleteContent moves an item to the trash.
func (s *Server) deleteContent(c echo.Context) error {
	pre := preconditionOf(c)
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		id, err := itemID(c, ctx, st)
		if err != nil {
			return err
		}
		if _, err := st.TrashItem(ctx, id, func(cur *cms.Item) error { return writable(c, pre, cur) }); err != nil {
			return err
		}
		s.changed(c, ctx, st)
		return nil
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "content.trashed", c.Param("id"), nil)
	return c.NoContent(http.StatusNoContent)
}

// transitionContent serves POST /api/content/:id/transition: {to, comment}.
// The permission depends on the move (cms.TransitionPermission), so it is
// checked inside the write transaction, against the status there.
func (s *Server) transitionContent(c echo.Context) error {
	var in struct {
		To      string `json:"to"`
		Comment string `json:"comment"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if err := required("to", in.To); err != nil {
		return err
	}
	pre := preconditionOf(c)
	var ch *cms.Change
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		id, err := itemID(c, ctx, st)
		if err != nil {
			return err
		}
		ch, err = st.Transition(ctx, id, in.To, in.Comment, principalOf(c).UserID, func(cur *cms.Item) error {
			perm, err := cms.TransitionPermission(cur.Status, in.To)
			if err != nil {
				return err
			}
			if err := lacks(c, perm); err != nil {
				return err
			}
			return writable(c, pre, cur)
		})
		if err != nil {
			return err
		}
		s.changed(c, ctx, st)
		return nil
	})
	if err != nil {
		return s.refused(c, err)
	}
	s.audit(c, auth.CategoryAudit, "content.transition", ch.Item.ID, map[string]any{"from": ch.FromStatus, "to": in.To})
	c.Response().Header().Set("ETag", itemETag(ch.Item))
	return c.JSON(http.StatusOK, map[string]any{"data": ch.Item})
}

func (s *Server) contentHistory(c echo.Context) error {
	var out []cms.HistoryEntry
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		it, err := s.readableItem(c, ctx, st)
		if err != nil {
			return err
		}
		out, err = st.History(ctx, it.ID)
		return err
	})
	if err != nil {
		return err
	}
	setCacheControl(c, privateNoStore)
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

func (s *Server) listVersions(c echo.Context) error {
	var out []cms.Version
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		it, err := s.readableItem(c, ctx, st)
		if err != nil {
			return err
		}
		out, err = st.Versions(ctx, it.ID)
		return err
	})
	if err != nil {
		return err
	}
	setCacheControl(c, privateNoStore)
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

func versionParam(c echo.Context, name string) (int, error) {
	n, err := strconv.Atoi(c.Param(name))
	if name != "n" {
		n, err = strconv.Atoi(c.QueryParam(name))
	}
	if err != nil || n < 1 {
		return 0, condo.ReasonErrorf(condo.EINVALID, "invalid_version", "%s must be a version number (1, 2, ...)", name)
	}
	return n, nil
}

func (s *Server) getVersion(c echo.Context) error {
	n, err := versionParam(c, "n")
	if err != nil {
		return err
	}
	var v *cms.Version
	err = s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		it, err := s.readableItem(c, ctx, st)
		if err != nil {
			return err
		}
		v, err = st.Version(ctx, it.ID, n)
		return err
	})
	if err != nil {
		return err
	}
	setCacheControl(c, privateNoStore)
	return c.JSON(http.StatusOK, map[string]any{"data": v})
}

// diffVersions serves GET /api/content/:id/diff?from=A&to=B.
func (s *Server) diffVersions(c echo.Context) error {
	from, err := versionParam(c, "from")
	if err != nil {
		return err
	}
	to, err := versionParam(c, "to")
	if err != nil {
		return err
	}
	var out []cms.FieldChange
	err = s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		it, err := s.readableItem(c, ctx, st)
		if err != nil {
			return err
		}
		out, err = st.Diff(ctx, it.ID, from, to)
		return err
	})
	if err != nil {
		return err
	}
	setCacheControl(c, privateNoStore)
	return c.JSON(http.StatusOK, map[string]any{"data": out, "meta": map[string]int{"from": from, "to": to}})
}

// restoreVersion serves POST /api/content/:id/versions/:n/restore: version
// n's content becomes current again, as a new version.
func (s *Server) restoreVersion(c echo.Context) error {
	n, err := versionParam(c, "n")
	if err != nil {
		return err
	}
	return s.writeContent(c, func(ctx context.Context, st *cms.Store, id, actor string, check func(*cms.Item) error) (*cms.Item, error) {
		return st.RestoreVersion(ctx, id, n, actor, func(cur *cms.Item, _ *cms.Collection) error { return check(cur) })
	})
}

func (s *Server) listTrash(c echo.Context) error {
	limit, err := condo.IntParam(c.QueryParams(), "limit", 50, 1, 1000)
	if err != nil {
		return err
	}
	var out []*cms.Item
	err = s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		var col *cms.Collection
		if name := c.QueryParam("collection"); name != "" {
			if col, err = st.Collection(ctx, name); err != nil {
				return err
			}
		}
		author := ""
		if p := principalOf(c); p.Role.OwnOnly {
			author = p.UserID
		}
		out, err = st.Trash(ctx, col, author, limit)
		return err
	})
	if err != nil {
		return err
	}
	setCacheControl(c, privateNoStore)
	return c.JSON(http.StatusOK, map[string]any{"data": out, "meta": map[string]any{"retention_days": int(cms.TrashRetention.Hours() / 24)}})
}

// trashed loads an item of the trash, checking own-only roles.
func trashed(c echo.Context, ctx context.Context, st *cms.Store) (*cms.Item, error) {
	it, err := st.TrashedItem(ctx, c.Param("id"))
	if err != nil {
		return nil, err
	}
	return it, mayEdit(c, it)
}

func (s *Server) restoreTrash(c echo.Context) error {
	var it *cms.Item
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) (err error) {
		if _, err := trashed(c, ctx, st); err != nil {
			return err
		}
		if it, err = st.RestoreItem(ctx, c.Param("id"), principalOf(c).UserID); err != nil {
			return err
		}
		s.changed(c, ctx, st)
		return nil
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "content.restored", it.ID, nil)
	c.Response().Header().Set("ETag", itemETag(it))
	return c.JSON(http.StatusOK, map[string]any{"data": it})
}

func (s *Server) purgeTrash(c echo.Context) error {
	err := s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		if _, err := trashed(c, ctx, st); err != nil {
			return err
		}
		if err := st.PurgeItem(ctx, c.Param("id")); err != nil {
			return err
		}
		s.changed(c, ctx, st)
		return nil
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "content.purged", c.Param("id"), nil)
	return c.NoContent(http.StatusNoContent)
}

// search serves GET /api/search?q=&collection=&limit=: anonymous searches
// see published items of public collections; content.read adds the
// private collections, content.read_drafts every status. Anonymous
// answers are kept in the answer cache like anonymous lists (until the
// tenant's next write, or the TTL): a search ranks up to cms.RankWindow
// matches with BM25, which for a word in most items costs milliseconds
// that a popular query need not pay again.
func (s *Server) search(c echo.Context) error {
	t := tenantOf(c)
	anonymous := principalOf(c) == nil
	if anonymous {
		if ok, err := s.cache.serve(c, t.ID); ok || err != nil {
			return err
		}
	}
	gen := s.cache.gen(t.ID)
	limit, err := condo.IntParam(c.QueryParams(), "limit", 20, 1, 100)
	if err != nil {
		return err
	}
	opt := cms.SearchOptions{Collection: c.QueryParam("collection"), Limit: limit,
		PublishedOnly: !can(c, auth.ContentReadDrafts), PublicOnly: !can(c, auth.ContentRead)}
	var hits []cms.Hit
	var policy cms.CachePolicy // searches across collections take the default
	err = s.withContent(c, func(ctx context.Context, st *cms.Store) (err error) {
		if opt.Collection != "" {
			if col, err := st.CachedCollection(ctx, opt.Collection); err == nil {
				policy = col.Cache
			}
		}
		hits, err = st.Search(ctx, c.QueryParam("q"), opt)
		return err
	})
	if err != nil {
		return err
	}
	body, err := cms.AppendHitsJSON(append(make([]byte, 0, 1024*len(hits)+256), `{"data":`...), hits)
	if err != nil {
		return err
	}
	if body, err = appendMeta(body, map[string]any{"count": len(hits), "q": c.QueryParam("q")}); err != nil {
		return err
	}
	return s.cache.answerBody(c, t.ID, gen, anonymous, "", readCacheControl(c, policy), body)
}

// decodeItem decodes an item body (POST, PUT, PATCH) like decodeStrict,
// after refusing data nested deeper than cms.MaxDataDepth: such data could
// never be stored, and the refusal names the field, where the JSON
// decoder would only say that its own, deeper, limit was exceeded.
func decodeItem(c echo.Context, v any) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	// The body's object is one level above the data.
	if d := cms.TooDeep(b, cms.MaxDataDepth+1); d != nil {
		field, _ := strings.CutPrefix(d.Path, "data.")
		if field == "" {
			field = "data"
		}
		return &condo.Error{Code: condo.EINVALID, Reason: "validation_failed",
			Fields:  map[string]string{field: fmt.Sprintf("nested more than %d levels deep", cms.MaxDataDepth)},
			Message: fmt.Sprintf("%s is nested more than %d levels deep", field, cms.MaxDataDepth)}
	}
	return decodeJSON(b, v)
}
