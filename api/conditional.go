package api

// Conditional requests and caching headers of the content and settings
// routes.
//
// Every item and collection answer carries a strong ETag made of the
// resource's id and version ("<id>-v<version>"): the version changes with
// every change, so the tag does, and a write can compare it with the
// request's If-Match inside its own transaction, where nothing else can
// change the resource between the check and the write. Settings, which
// have no version, take a tag made of their body.

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/cms"
)

// itemETag is the strong validator of an item's version.
func itemETag(it *cms.Item) string { return versionETag(it.ID, it.Version) }

// collectionETag is the strong validator of a collection's version. The
// id, not the name, so a collection deleted and made again under the same
// name does not match its predecessor's tag.
func collectionETag(col *cms.Collection) string { return versionETag(col.ID, col.Version) }

func versionETag(id string, version int) string {
	return `"` + id + "-v" + strconv.Itoa(version) + `"`
}

// precondition is a write's If-Match and If-Unmodified-Since (RFC 9110
// section 13). If-Match wins when both are given; an If-Unmodified-Since
// that is not an HTTP date is ignored, as the RFC says.
type precondition struct {
	ifMatch string    // the header as sent; "" when absent
	since   time.Time // zero when absent or not a date
}

func preconditionOf(c echo.Context) precondition {
	h := c.Request().Header
	p := precondition{ifMatch: strings.TrimSpace(h.Get("If-Match"))}
	if v := h.Get("If-Unmodified-Since"); v != "" && p.ifMatch == "" {
		p.since, _ = http.ParseTime(v)
	}
	return p
}

// check refuses with 412 precondition_failed when the resource, as the
// write transaction sees it (its etag, version and last change), fails the
// request's preconditions. what names the resource in the message. The
// current tag goes in the answer's ETag header, so a client can read the
// resource again or decide to overwrite it.
func (p precondition) check(c echo.Context, what, etag string, version int, modified time.Time) error {
	switch {
	case p.ifMatch != "":
		if strongMatch(p.ifMatch, etag) {
			return nil
		}
	case !p.since.IsZero():
		// HTTP dates have whole seconds: a change within the second the
		// client saw counts as not after it.
		if !modified.Truncate(time.Second).After(p.since) {
			return nil
		}
	default:
		return nil
	}
	c.Response().Header().Set("ETag", etag)
	// The current state goes in fields too, for clients that parse.
	e := &condo.Error{Code: condo.EPRECONDITION, Reason: "precondition_failed", Fields: map[string]string{"etag": etag},
		Message: fmt.Sprintf("%s has changed since you read it: it is at version %d now (ETag %s); read it again", what, version, etag)}
	if version > 0 {
		e.Fields["version"] = strconv.Itoa(version)
	} else {
		e.Message = fmt.Sprintf("%s has changed since you read it (ETag %s now); read it again", what, etag)
	}
	return e
}

// strongMatch reports whether an If-Match list names etag or is "*". Weak
// tags never match: If-Match uses the strong comparison.
func strongMatch(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}

// refusal is a missing permission found inside a write transaction.
// Recording a refusal writes to the tenant's database, which must wait
// until the transaction, holding its only write connection, has ended:
// refused turns it into the recorded 401 or 403 then.
type refusal struct{ perm string }

func (r *refusal) Error() string { return "this needs the " + r.perm + " permission" }

// lacks returns a refusal unless the request's principal holds perm.
func lacks(c echo.Context, perm string) error {
	if can(c, perm) {
		return nil
	}
	return &refusal{perm}
}

// refused records and answers a refusal that err carries; other errors
// pass unchanged.
func (s *Server) refused(c echo.Context, err error) error {
	var r *refusal
	if errors.As(err, &r) {
		return s.need(c, r.perm)
	}
	return err
}

// Cache-Control values. A read that depends on a credential (which may
// show drafts or private collections) is never kept by a shared cache;
// an anonymous read of published content is, for as long as its
// collection's cache policy says.
const privateNoStore = "private, no-store"

// readCacheControl is the Cache-Control of a content read: public under
// policy for an anonymous request, private otherwise.
func readCacheControl(c echo.Context, policy cms.CachePolicy) string {
	if principalOf(c) != nil {
		return privateNoStore
	}
	maxAge, stale := policy.Seconds()
	return fmt.Sprintf("public, max-age=%d, stale-while-revalidate=%d", maxAge, stale)
}

// setCacheControl sets Cache-Control and, since the answer depends on
// whether and who signed in, Vary: Authorization (also on public answers,
// so a shared cache never hands an anonymous answer to a signed-in
// reader, who may see more).
func setCacheControl(c echo.Context, v string) {
	if v == "" {
		return
	}
	h := c.Response().Header()
	h.Set("Cache-Control", v)
	h.Add("Vary", "Authorization")
}
