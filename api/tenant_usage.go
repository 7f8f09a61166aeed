package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
)

// UsageDays is how many days GET /api/usage reports requests for: this
// week, today included.
const UsageDays = 7

// TenantUsage is the answer of GET /api/usage: what a tenant's own admin
// sees of its usage (the platform's GET /platform/tenants/:id/stats has
// the rest).
type TenantUsage struct {
	Plan string `json:"plan"`
	// Storage is what the quota counts: the database and the media files.
	Storage struct {
		Database int64 `json:"database"`
		Media    int64 `json:"media"`
		Total    int64 `json:"total"`
		// Quota is the tenant's storage quota in bytes.
		Quota int64 `json:"quota"`
	} `json:"storage"`
	// Items counts the tenant's items by status, the trash left out.
	Items map[string]int `json:"items"`
	// Days are the last UsageDays days, oldest first, each of them
	// (a day without requests has zeros).
	Days []UsageStats `json:"days"`
}

// getTenantUsage serves GET /api/usage: the tenant's storage against its
// quota, its items by status and its requests of the last UsageDays days.
func (s *Server) getTenantUsage(c echo.Context) error {
	t := tenantOf(c)
	var out TenantUsage
	out.Plan = t.Plan
	u, err := s.storageUsage(c)
	if err != nil {
		return err
	}
	out.Storage.Database, out.Storage.Media, out.Storage.Total = u.Database, u.Media, u.Total()
	out.Storage.Quota = t.StorageQuota
	err = s.withContent(c, func(ctx context.Context, st *cms.Store) (err error) {
		out.Items, err = st.StatusCounts(ctx)
		return err
	})
	if err != nil {
		return err
	}
	today := time.Now().UTC()
	from := today.AddDate(0, 0, -(UsageDays - 1)).Format(catalog.DayFormat)
	to := today.Format(catalog.DayFormat)
	rows, err := s.catalog.Usage(c.Request().Context(), t.ID, from, to)
	if err != nil {
		return err
	}
	rows = s.withPending(t.ID, rows, from, to)
	byDay := make(map[string]catalog.UsageDay, len(rows))
	for _, r := range rows {
		byDay[r.Day] = r
	}
	for i := UsageDays - 1; i >= 0; i-- {
		day := today.AddDate(0, 0, -i).Format(catalog.DayFormat)
		r := byDay[day]
		out.Days = append(out.Days, UsageStats{Day: day, Requests: r.Requests, Errors4xx: r.Errors4xx, Errors5xx: r.Errors5xx,
			BytesIn: r.BytesIn, BytesOut: r.BytesOut, Statements: r.Statements})
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}
