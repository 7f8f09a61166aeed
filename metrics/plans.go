package metrics

// Plan enforcement: what the plans' limits refused. Kinds, never tenants:
// storage (the storage quota, CMS and libSQL writes), media (an upload
// past the quota or the plan's file size), and the count limits
// (users, items, tokens, domains).
var (
	// QuotaRejections counts writes refused by a plan's quota or limit.
	QuotaRejections = counterVec("condo_quota_rejections_total", "Writes refused by a plan's storage quota or count limit, by kind.", "kind")
	// RateLimited counts requests refused by a tenant's request rate limit.
	RateLimited = counter("condo_rate_limited_total", "Requests refused (429) by their tenant's plan's request rate limit.")
)
