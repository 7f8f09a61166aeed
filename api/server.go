// Package api is Condo's HTTP edge: the echo server, its middleware
// (request ids, logging, panic recovery, body limits and deadlines, CORS,
// compression, tenant resolution), the per-address connection limit,
// the routes, and the one place where domain error codes become HTTP
// statuses. Handlers do no SQL of their own beyond what a domain package
// hands them; they work on the tenant handle the request resolved to.
package api

import (
	"cmp"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/backup"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/jobs"
	"github.com/condohq/condo/mail"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/plugins"
	"github.com/condohq/condo/plugins/shipped"
	"github.com/condohq/condo/route"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/usage"
)

// DefaultBodyLimit caps request bodies; larger ones get 413.
const DefaultBodyLimit = "4M"

// Config tunes a Server.
type Config struct {
	Logger    *slog.Logger // nil discards
	BodyLimit string       // echo size syntax, such as "4M"
	// Secret signs tenant and platform admin tokens (HS256). Empty: a
	// random secret generated once and kept in the catalog
	// (auth.MetaJWTSecret).
	Secret []byte
	// Mailer sends invitations and password resets; nil keeps them in the
	// catalog outbox.
	Mailer mail.Mailer
	// ClientIPHeader names the header a trusted proxy puts the client's IP
	// in (Fly-Client-IP on Fly.io). Empty: the connection's address, since
	// a header the client sets itself would let it dodge per-IP limits.
	ClientIPHeader string
	// IPLoginBurst is how many logins one client IP may try at once
	// (0: IPBurst); tests that log in often raise it.
	IPLoginBurst int
	// ContentCache is how many anonymous content answers are kept across
	// tenants (0: DefaultContentCache; negative: none).
	ContentCache int
	// Content is the process's content cache, shared with everything else
	// that builds content stores (the scheduler) so that every write
	// invalidates through it. Nil: the server makes one of ContentCache
	// entries, trusted for the catalog's resolution TTL by Now.
	Content *cms.Cache
	// Jobs owns the server's long-running work: the platform routes ask
	// it to start fleet migration runs and to report on them. The server
	// only calls it; whoever built it starts and stops it (serve does).
	// Nil: those routes answer 503 jobs_unavailable.
	Jobs *jobs.Jobs
	// SecurityEventEvery is how often one client's repeated security event
	// of one kind on one tenant is recorded (0: DefaultSecurityEventEvery).
	SecurityEventEvery time.Duration
	// Now is the clock the content cache's expiry, the login throttles
	// and the tenants' request rate limits read (nil: time.Now); tests
	// inject one. Cached content expires after the catalog's
	// resolution TTL (catalog.Config.CacheTTL).
	Now func() time.Time
	// BodyTimeout bounds how long a request body may take to arrive, 408
	// beyond (0: DefaultBodyTimeout); UploadTimeout is that of POST
	// /api/media (0: DefaultUploadTimeout).
	BodyTimeout, UploadTimeout time.Duration
	// CORS is the cross-origin policy of tenants that set none (nil: no
	// origin allowed). Validate it first.
	CORS *CORS
	// Streams serves the libSQL endpoint's streams (see hrana.go); like
	// Jobs, whoever built it runs and stops it (serve does). Nil: the
	// endpoint answers 503 sql_unavailable.
	Streams *hrana.Registry
	// Backups is the continuous backup replicator (package backup); like
	// Jobs, serve starts and stops it. Nil: the backup routes answer 503
	// backups_off and /readyz says nothing of backups.
	Backups *backup.Replicator
	// NodeID names this node in the X-Condo-Node header of every answer
	// (empty: no header).
	NodeID string
	// Version is the binary's version, written into export manifests.
	Version string
	// WakeArchived restores a tenant the idle archiver archived on its
	// first request, which waits for it (else it answers 410).
	WakeArchived bool
	// Signup turns on public self-service sign-up: the console's pages and
	// the API they call (signup.go); serve's --signup, off by default.
	Signup bool
	// SignupLimits bounds it: the plan new tenants get, the cap per email,
	// the rate per client IP (see signup.go).
	SignupLimits SignupLimits
	// Routing forwards requests to their tenant's home region (see
	// route.go); the zero value serves every request here.
	Routing Routing
	// Catalog serves this node's catalog to the other nodes (see
	// catalog.go); the zero value does not.
	Catalog CatalogEndpoint
	// Plugins runs the tenants' plugins: New makes it the hooks of
	// Content and serves its registry's routes. Nil: a runner of the
	// shipped plugins (plugins/shipped), whose hook goroutines nobody
	// waits for at shutdown; serve passes its own and closes it.
	Plugins *plugins.Runner
	// Usage counts each tenant's requests, errors, latency, bytes and
	// libSQL statements (see usage.go); whoever built it flushes it
	// (serve runs a usage.Flusher). Nil: nothing is metered per tenant.
	Usage *usage.Meter
	// MetricsToken, when set, is the bearer token GET /metrics requires
	// (on the platform host and on MetricsHandler).
	MetricsToken string
	// Webhooks configures the webhook routes (see webhooks.go).
	Webhooks WebhooksConfig
}

// DefaultSecurityEventEvery: a forged-token flood writes a row a minute.
const DefaultSecurityEventEvery = time.Minute

// Server serves every tenant's HTTP API.
type Server struct {
	echo    *echo.Echo
	handler http.Handler // echo behind compression
	catalog *catalog.Catalog
	store   *tenantstore.Store
	logger  *slog.Logger

	keys           *auth.Keys     // signs tenant and platform tokens
	mailer         mail.Mailer    // invitations and password resets
	loginThrottle  *auth.Throttle // failed logins per account (tenant+email)
	ipThrottle     *auth.Throttle // login attempts per client IP
	events         *auth.Sampler  // repeated security events, per tenant, client IP and kind
	jobs           *jobs.Jobs     // fleet migration runs; nil: none (see Config.Jobs)
	content        *cms.Cache     // generations, parsed collections, list totals: per tenant
	cache          *contentCache  // anonymous content answers, per tenant generation
	bodyTimeout    time.Duration  // see Config.BodyTimeout
	uploadTimeout  time.Duration
	defaultCORS    *CORS              // see Config.CORS
	streams        *hrana.Registry    // libSQL streams; nil: none (see Config.Streams)
	backups        *backup.Replicator // continuous backups; nil: none (see Config.Backups)
	nodeSecret     *route.Secret      // signs and checks node-to-node calls (platform_moves.go)
	router         *router            // forwarding to home regions; nil: none
	version        string             // see Config.Version
	wakeArchived   bool               // see Config.WakeArchived
	signup         bool               // see Config.Signup
	signups        *signups           // its limits and throttle; nil without Config.Signup
	wakeMu         sync.Mutex         // one wake at a time
	catalogEP      CatalogEndpoint    // the control plane's endpoint (see Config.Catalog)
	remote         *remoteSQL         // libSQL requests of tenants at remote locations
	usage          *usage.Meter       // per-tenant usage; nil: none (see Config.Usage)
	metricsToken   string             // see Config.MetricsToken
	metricsHandler http.Handler       // /metrics (metrics.go)
	plugins        *plugins.Runner    // the tenants' plugins (see Config.Plugins)
	plans          *plans.Set         // the catalog's plans (catalog.Config.Plans)
	limiters       *plans.Limiters    // per-tenant request rate buckets
	webhooks       WebhooksConfig
	quotaEvents    sync.Map // tenant id -> time of its last tenant.quota_exceeded (plans.go)
	now            func() time.Time
}

// New builds the server and its routes. It does no I/O and starts no
// goroutine: long-running work belongs to Config.Jobs.
func New(cat *catalog.Catalog, store *tenantstore.Store, cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientIP(cfg.ClientIPHeader)
	if cfg.Mailer == nil {
		cfg.Mailer = mail.NewOutbox(cat, cfg.Logger)
	}
	if cfg.Content == nil {
		// Parsed collections and list totals are kept whatever
		// ContentCache says: it sizes the cache of answers only, and every
		// item answer reads its collection (for its Cache-Control).
		cfg.Content = cms.NewCache(DefaultContentCache, cat.Config().CacheTTL, cfg.Now)
	}
	if cfg.Plugins == nil {
		cfg.Plugins = plugins.NewRunner(shipped.Registry(), plugins.Config{Logger: cfg.Logger, TTL: cat.Config().CacheTTL, Now: cfg.Now, Allowed: PluginGate(cat)})
	}
	// Before anything shares the cache (serve starts the scheduler later).
	cfg.Content.WithHooks(cfg.Plugins)
	s := &Server{echo: e, catalog: cat, store: store, logger: cfg.Logger,
		keys:          auth.NewKeys(cat, cfg.Secret),
		mailer:        cfg.Mailer,
		loginThrottle: auth.NewThrottle(LoginBurst, LoginEvery, 100_000),
		ipThrottle:    auth.NewThrottle(cmp.Or(cfg.IPLoginBurst, IPBurst), IPEvery, 100_000),
		events:        auth.NewSampler(cmp.Or(cfg.SecurityEventEvery, DefaultSecurityEventEvery), 100_000),
		jobs:          cfg.Jobs,
		content:       cfg.Content,
		cache:         newContentCache(contentCacheSize(cfg.ContentCache), cat.Config().CacheTTL, cfg.Now, cfg.Content),
		bodyTimeout:   positiveOr(cfg.BodyTimeout, DefaultBodyTimeout),
		uploadTimeout: positiveOr(cfg.UploadTimeout, DefaultUploadTimeout),
		defaultCORS:   cfg.CORS,
		streams:       cfg.Streams,
		backups:       cfg.Backups,
		version:       cfg.Version,
		wakeArchived:  cfg.WakeArchived,
		signup:        cfg.Signup,
		webhooks:      cfg.Webhooks,
		nodeSecret:    route.NewSecret(cat),
		catalogEP:     cfg.Catalog,
		remote:        newRemoteSQL(),
		plugins:       cfg.Plugins,
		plans:         cat.Plans(),
		limiters:      plans.NewLimiters(0),
		now:           cfg.Now,
		usage:         cfg.Usage,
		metricsToken:  cfg.MetricsToken}
	s.metricsHandler = s.newMetricsHandler()
	if cfg.Signup {
		s.signups = newSignups(cfg.SignupLimits, cfg.Now)
	}
	if s.webhooks.Allowed == nil {
		s.webhooks.Allowed = func(t *catalog.Tenant) bool { return s.plans.For(t.Plan).Allows(plans.Webhooks) }
	}
	s.loginThrottle.Now, s.ipThrottle.Now = cfg.Now, cfg.Now
	if cfg.Routing.Nodes != nil && cfg.Routing.Region != "" {
		s.router = newRouter(cfg.Routing, route.NewSecret(cat), cfg.ClientIPHeader, cfg.NodeID)
	}
	e.HTTPErrorHandler = s.handleError
	global := []echo.MiddlewareFunc{requestID, s.accessLog, s.meter, securityHeaders}
	if cfg.NodeID != "" {
		global = append(global, nodeHeader(cfg.NodeID))
	}
	e.Use(prebuilt(append(global, s.bodyDeadline, s.cors,
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			DisablePrintStack: true,
			LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
				logger(c).Error("panic", "err", err, "stack", string(stack))
				return err
			},
		}),
		// An upload has its plan's limit instead (see mediaRoutes), the
		// libSQL endpoint its registry's.
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: cfg.BodyLimit,
			Skipper: func(c echo.Context) bool {
				return isUpload(c) || isImport(c) || isHranaPath(c.Request().URL.Path) || isCondoPath(c.Request().URL.Path)
			}}))...))
	s.routes()
	s.handler = compress(e)
	return s
}

func contentCacheSize(n int) int {
	switch {
	case n < 0:
		return 0
	case n == 0:
		return DefaultContentCache
	}
	return n
}

// readMethods are the methods of every read route: HEAD answers with the
// GET's status and headers (net/http drops the body the handler writes),
// which is what link checkers, CDNs and monitors send. Register reads with
// e.Match(readMethods, ...) or tenantRoute; TestServer_HEAD checks.
var readMethods = []string{http.MethodGet, http.MethodHead}

// HealthPath answers while the process runs; ReadyPath while the catalog
// and the pool serve. Deployments name them (fly.toml's checks, tested
// against these).
const (
	HealthPath = "/healthz"
	ReadyPath  = "/readyz"
)

func (s *Server) routes() {
	e := s.echo
	e.Match(readMethods, HealthPath, s.healthz)
	e.Match(readMethods, ReadyPath, s.readyz)

	// Tenant routes resolve the tenant per route rather than through a
	// group, so an unknown path or method stays a plain 404 or 405.
	s.tenantRoute(http.MethodGet, "/api/tenant", s.getTenant, anyone)
	s.tenantRoute(http.MethodGet, "/api/usage", s.getTenantUsage, auth.SettingsRead)
	s.sessionRoutes()
	s.userRoutes()
	s.tokenRoutes()
	s.webhookRoutes()
	s.invitationRoutes()
	s.settingsRoutes()
	s.accountRoutes()
	s.mediaRoutes()
	s.contentRoutes()
	s.pluginRoutes()
	s.tenantRoute(http.MethodGet, "/api", s.openAPI, anyone)
	s.hranaRoutes()
	s.catalogRoutes()
	e.Match(readMethods, MetricsPath, s.getMetrics)
	s.adminRoutes(s.signup)
	s.signupRoutes()

	s.platformRoutes(e)
}

// prebuilt chains mws once, in the order echo would (the first is
// outermost), around the matched route's handler. Echo applies
// middleware given to Use (and to a route) on every request, which cost
// an allocation per middleware per request on the hot path.
func prebuilt(mws ...echo.MiddlewareFunc) echo.MiddlewareFunc {
	h := with(func(c echo.Context) error { return c.Handler()(c) }, mws...)
	return func(echo.HandlerFunc) echo.HandlerFunc { return h }
}

// with wraps h in mws once, at registration: pass routes with(h, mws...)
// rather than h, mws... (see prebuilt).
func with(h echo.HandlerFunc, mws ...echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Routes lists every registered route, so tests can walk them all.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }
