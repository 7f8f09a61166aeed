package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/libsqldb"
	condousage "github.com/condohq/condo/usage"
)

// Config is every setting of `condo serve` and the operator commands.
// Each comes from a flag, else its CONDO_* environment variable, else its
// default; settings below lists them, and the README's settings table is
// tested against that list. Secrets come from the environment only (a
// command line shows in ps) and are of type secret, which never prints.
type Config struct {
	Addr            string
	Data            string
	Catalog         remoteURL // a shared control plane's libSQL URL; empty: <data>/catalog.db
	ServeCatalog    bool      // serve this node's catalog to the others at /_condo/catalog
	BaseDomain      string
	Region          string
	PoolSize        int
	HeaderFallback  bool
	ResolveTTL      time.Duration
	BodyLimit       string
	LogFormat       string
	LogLevel        string
	ShutdownTimeout time.Duration
	FullSync        bool
	SMTPURL         redactedURL // may carry a password: prints redacted
	MailFrom        string
	ClientIPHeader  string
	DefaultTenant   string
	BodyTimeout     time.Duration
	UploadTimeout   time.Duration
	MaxConnsPerIP   int
	CORSOrigins     string // comma-separated
	MaxStreams      int    // open libSQL streams, all tenants together
	NodeID          string // else FLY_MACHINE_ID, else generated once and kept in <data>/node-id
	AdvertiseURL    string // else, on Fly.io, the machine's 6PN address
	Heartbeat       time.Duration
	ResidencySets   string // "eu=ams,fra;us=iad", parsed by catalog.ParseResidencySets
	Forward         bool   // proxy to home regions even on Fly.io (else fly-replay there)
	ForwardTimeout  time.Duration
	MoveRetention   time.Duration // how long a moved tenant's old copy is kept
	ArchiveIdle     time.Duration // archive tenants unwritten this long (0: never)
	WakeArchived    bool          // a request wakes a tenant the idle archiver archived
	Signup          bool          // public self-service sign-up on the platform host
	SignupPlan      string        // the plan tenants created by sign-up get
	SignupPerEmail  int           // tenants one email may sign up
	Plans           string        // a YAML file of plan definitions; empty: the built-in free, pro, enterprise
	MetricsAddr     string        // a second listener serving /metrics only (empty: none)
	UsageFlush      time.Duration // how often usage counted in memory is written to the catalog
	WebhooksPrivate bool          // webhooks may go to loopback, private and link-local addresses
	WebhooksRetry   time.Duration // delay before a webhook's first retry (doubling up to an hour)
	BackupURL       string        // s3://bucket/prefix or file:///path: continuous backups (empty: off)
	BackupRegion    string        // the region the backup store keeps bytes in (empty: --region)
	BackupLagAlert  time.Duration // /readyz says degraded past this backup lag
	SnapshotEvery   time.Duration // local scheduled snapshots (0: off)
	SnapshotKeep    int           // local snapshots kept per tenant (0: no count limit)
	SnapshotMaxAge  time.Duration // local snapshots older are removed (0: no age limit)

	// From the environment only.
	JWTSecret        secret // signs tokens; empty: generated once, kept in the catalog
	CatalogToken     secret // the control plane's token: to open --catalog, and to serve it
	AdminEmail       string // the first platform admin's (bootstrap)
	AdminPassword    secret // the first platform admin's (bootstrap), or admins create's
	Password         secret // users create's
	LocationToken    secret // tenants create --location's token
	MetricsToken     secret // the bearer token /metrics requires (empty: none)
	TenantMigrations string // a migration directory replacing the embedded tenant set
}

// secret is a setting that must never reach a log, an error or --help:
// every way fmt and slog print it shows only whether it is set.
type secret string

func (s secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing it.
func (s secret) GoString() string { return `"` + s.String() + `"` }

// LogValue keeps slog from printing it.
func (s secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// setting describes one Config field for flags, environment and docs.
type setting struct {
	flag, env, def, help string
	bind                 func(fs *flag.FlagSet, name, value, help string) error
}

func str(p *string) func(*flag.FlagSet, string, string, string) error {
	return func(fs *flag.FlagSet, name, v, help string) error { fs.StringVar(p, name, v, help); return nil }
}

func integer(p *int) func(*flag.FlagSet, string, string, string) error {
	return func(fs *flag.FlagSet, name, v, help string) error {
		n, err := strconv.Atoi(v)
		if err != nil && v != "" {
			return fmt.Errorf("%s: %q is not a whole number", name, v)
		}
		fs.IntVar(p, name, n, help)
		return nil
	}
}

func boolean(p *bool) func(*flag.FlagSet, string, string, string) error {
	return func(fs *flag.FlagSet, name, v, help string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s: %q is not true or false", name, v)
		}
		fs.BoolVar(p, name, b, help)
		return nil
	}
}

func duration(p *time.Duration) func(*flag.FlagSet, string, string, string) error {
	return func(fs *flag.FlagSet, name, v, help string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%s: %q is not a duration such as 5s", name, v)
		}
		fs.DurationVar(p, name, d, help)
		return nil
	}
}

// secretURL binds a URL that may carry a password, so that --help shows
// its default (taken from the environment) without it.
func secretURL(p *redactedURL) func(*flag.FlagSet, string, string, string) error {
	return func(fs *flag.FlagSet, name, v, help string) error {
		*p = redactedURL(v)
		fs.Var(p, name, help)
		return nil
	}
}

// redactedURL is a URL setting whose text hides its password.
type redactedURL string

func (u redactedURL) String() string {
	if u == "" {
		return ""
	}
	parsed, err := url.Parse(string(u))
	if err != nil {
		return "(not a URL)" // the raw text may hold the password
	}
	return parsed.Redacted()
}

func (u *redactedURL) Set(v string) error { *u = redactedURL(v); return nil }

// GoString keeps %#v from printing the password.
func (u redactedURL) GoString() string { return `"` + u.String() + `"` }

// remote binds a libSQL URL setting, whose text (--help, logs) is
// redacted the one way Condo redacts URLs.
func remote(p *remoteURL) func(*flag.FlagSet, string, string, string) error {
	return func(fs *flag.FlagSet, name, v, help string) error {
		*p = remoteURL(v)
		fs.Var(p, name, help)
		return nil
	}
}

// remoteURL is a libSQL URL setting.
type remoteURL string

func (u remoteURL) String() string {
	if u == "" {
		return ""
	}
	return libsqldb.Redact(string(u))
}

func (u *remoteURL) Set(v string) error { *u = remoteURL(v); return nil }

// GoString keeps %#v from printing what Redact hides.
func (u remoteURL) GoString() string { return `"` + u.String() + `"` }

// fromEnv binds a setting read from the environment only: it registers
// no flag.
func fromEnv(p *string) func(*flag.FlagSet, string, string, string) error {
	return func(_ *flag.FlagSet, _, v, _ string) error { *p = v; return nil }
}

func secretFromEnv(p *secret) func(*flag.FlagSet, string, string, string) error {
	return func(_ *flag.FlagSet, _, v, _ string) error { *p = secret(v); return nil }
}

// settings lists every setting; one without a flag is read from its
// environment variable only.
func (c *Config) settings() []setting {
	return []setting{
		{"addr", "CONDO_ADDR", ":8080", "address to listen on", str(&c.Addr)},
		{"data", "CONDO_DATA", "./data", "data directory (catalog.db, tenants/)", str(&c.Data)},
		{"catalog", "CONDO_CATALOG", "", "the control plane shared by every node: a libsql://, http:// or https:// URL (such as http://primary:8080" + api.CatalogPath + "), token from CONDO_CATALOG_TOKEN; empty: <data>/catalog.db", remote(&c.Catalog)},
		{"serve-catalog", "CONDO_SERVE_CATALOG", "false", "serve this node's catalog to the other nodes at " + api.CatalogPath + " (needs CONDO_CATALOG_TOKEN)", boolean(&c.ServeCatalog)},
		{"base-domain", "CONDO_BASE_DOMAIN", "", "tenants answer at <id>.<base-domain>; the catalog keeps it (empty: the catalog's, " +
			catalog.DefaultBaseDomain + " for a new one); another value than the catalog's is refused: change it with condo base-domain set", str(&c.BaseDomain)},
		{"region", "CONDO_REGION", "", "this node's region (else FLY_REGION)", str(&c.Region)},
		{"node-id", "CONDO_NODE_ID", "", "this node's id in the catalog (else FLY_MACHINE_ID, else one generated once and kept in <data>/node-id)", str(&c.NodeID)},
		{"advertise-url", "CONDO_ADVERTISE_URL", "", "where other nodes reach this one (on Fly.io: http://<FLY_MACHINE_ID>.vm.<FLY_APP_NAME>.internal:<port>; else empty)", str(&c.AdvertiseURL)},
		{"heartbeat-interval", "CONDO_HEARTBEAT_INTERVAL", "5s", "how often this node records in the catalog that it is alive (stale after 3 missed)", duration(&c.Heartbeat)},
		{"residency-sets", "CONDO_RESIDENCY_SETS", "", "named sets of regions a tenant's data may be kept in, such as eu=ams,fra,cdg;us=iad,ord", str(&c.ResidencySets)},
		{"forward", "CONDO_FORWARD", "false", "proxy requests for tenants homed elsewhere to a node of their region even on Fly.io (there the default is a fly-replay answer)", boolean(&c.Forward)},
		{"forward-timeout", "CONDO_FORWARD_TIMEOUT", "30s", "how long a forwarded request waits for the home node's answer to begin", duration(&c.ForwardTimeout)},
		{"archive-idle", "CONDO_ARCHIVE_IDLE", "0s", "archive tenants nothing has written for this long and that are not open (0s: never); see --wake-archived", duration(&c.ArchiveIdle)},
		{"wake-archived", "CONDO_WAKE_ARCHIVED", "false", "a request to a tenant the idle archiver archived restores it and waits for it (else 410 tenant_archived)", boolean(&c.WakeArchived)},
		{"signup", "CONDO_SIGNUP", "false", "public self-service sign-up at platform.<base-domain>/platform/admin/signup: a visitor creates a tenant and becomes its admin", boolean(&c.Signup)},
		{"signup-plan", "CONDO_SIGNUP_PLAN", "free", "the plan of tenants created by --signup (one of --plans)", str(&c.SignupPlan)},
		{"signup-per-email", "CONDO_SIGNUP_PER_EMAIL", "3", "how many tenants one email may create by --signup (those that still exist)", integer(&c.SignupPerEmail)},
		{"webhooks-allow-private", "CONDO_WEBHOOKS_ALLOW_PRIVATE", "false", "let webhooks go to loopback, private and link-local addresses (else refused, at creation and at every connection: SSRF)", boolean(&c.WebhooksPrivate)},
		{"webhooks-first-retry", "CONDO_WEBHOOKS_FIRST_RETRY", "5s", "delay before a failed webhook delivery's first retry; each further one doubles it up to an hour, with jitter, for a day", duration(&c.WebhooksRetry)},
		{"move-retention", "CONDO_MOVE_RETENTION", "24h", "how long the source of a tenant move keeps the old copy (under <data>/moved/) before a sweep removes it", duration(&c.MoveRetention)},
		{"plans", "CONDO_PLANS", "", "YAML file defining the plans tenants may be on and their limits (see README, Plans and quotas); empty: the built-in free, pro and enterprise", str(&c.Plans)},
		{"backup-url", "CONDO_BACKUP_URL", "", "continuous backups of every written tenant with Litestream: s3://bucket/prefix (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; ?endpoint=URL or AWS_ENDPOINT_URL_S3 for an S3-compatible server) or file:///path; empty: off", str(&c.BackupURL)},
		{"backup-region", "CONDO_BACKUP_REGION", "", "the region the backup store keeps its bytes in, checked against each tenant's residency (empty: --region)", str(&c.BackupRegion)},
		{"backup-lag-alert", "CONDO_BACKUP_LAG_ALERT", "1m", "backup lag past which /readyz says degraded", duration(&c.BackupLagAlert)},
		{"snapshot-every", "CONDO_SNAPSHOT_EVERY", "0s", "take a local snapshot of each tenant written since its last one this often, under <data>/snapshots/<id>/ (0s: off)", duration(&c.SnapshotEvery)},
		{"snapshot-keep", "CONDO_SNAPSHOT_KEEP", "7", "local snapshots kept per tenant, the newest (0: no count limit)", integer(&c.SnapshotKeep)},
		{"snapshot-max-age", "CONDO_SNAPSHOT_MAX_AGE", "0s", "local snapshots older than this are removed, the newest always kept (0s: no age limit)", duration(&c.SnapshotMaxAge)},
		{"pool-size", "CONDO_POOL_SIZE", "0", "open tenant databases kept (0: the smaller of (open-file limit - 512) / 8 and memory limit / 2 MiB)", integer(&c.PoolSize)},
		{"header-fallback", "CONDO_TENANT_HEADER", "false", "let X-Tenant-ID pick the tenant when the host matches none", boolean(&c.HeaderFallback)},
		{"resolve-ttl", "CONDO_RESOLVE_TTL", catalog.DefaultCacheTTL.String(), "how long a host-to-tenant lookup is cached", duration(&c.ResolveTTL)},
		{"body-limit", "CONDO_BODY_LIMIT", "4M", "largest request body", str(&c.BodyLimit)},
		{"log-format", "CONDO_LOG_FORMAT", "text", "log format: text or json", str(&c.LogFormat)},
		{"log-level", "CONDO_LOG_LEVEL", "info", "log level: debug, info, warn or error", str(&c.LogLevel)},
		{"shutdown-timeout", "CONDO_SHUTDOWN_TIMEOUT", "15s", "how long shutdown waits for in-flight requests", duration(&c.ShutdownTimeout)},
		{"full-sync", "CONDO_FULL_SYNC", "false", "synchronous=FULL: commits survive power loss, not only crashes", boolean(&c.FullSync)},
		{"smtp-url", "CONDO_SMTP_URL", "", "SMTP server for invitations and resets (smtp://user:pass@host:587); empty keeps mail in the catalog outbox", secretURL(&c.SMTPURL)},
		{"mail-from", "CONDO_MAIL_FROM", "condo@localhost", "sender of invitations and resets", str(&c.MailFrom)},
		{"default-tenant", "CONDO_DEFAULT_TENANT", "", "tenant served on hosts that match no tenant, such as <app>.fly.dev (empty: those hosts answer 404)", str(&c.DefaultTenant)},
		{"body-timeout", "CONDO_BODY_TIMEOUT", "30s", "how long a request body may take to arrive (408 beyond)", duration(&c.BodyTimeout)},
		{"upload-timeout", "CONDO_UPLOAD_TIMEOUT", "10m", "how long a media upload's body may take to arrive", duration(&c.UploadTimeout)},
		{"max-conns-per-ip", "CONDO_MAX_CONNS_PER_IP", "64", "open connections one client address may hold (0: no limit; behind a proxy, the proxy's)", integer(&c.MaxConnsPerIP)},
		{"cors-origins", "CONDO_CORS_ORIGINS", "", "browser origins allowed to call tenants that set no CORS policy of their own, comma-separated (https://app.example.com, or *); empty: none", str(&c.CORSOrigins)},
		{"max-streams", "CONDO_MAX_STREAMS", strconv.Itoa(hrana.DefaultMaxStreams), "open libSQL streams (each a SQLite connection) across tenants; past it 503", integer(&c.MaxStreams)},
		{"client-ip-header", "CONDO_CLIENT_IP_HEADER", "", "header a trusted proxy sets to the client's IP (Fly-Client-IP on Fly.io); empty: the connection's address", str(&c.ClientIPHeader)},
		{"metrics-addr", "CONDO_METRICS_ADDR", "", "a second address serving GET /metrics only, on any host, for a scraper on a private network (empty: /metrics on the platform host only)", str(&c.MetricsAddr)},
		{"usage-flush-interval", "CONDO_USAGE_FLUSH_INTERVAL", condousage.DefaultFlushEvery.String(), "how often per-tenant usage counted in memory is added to the catalog's usage_daily (and once at shutdown)", duration(&c.UsageFlush)},
		{"", "CONDO_METRICS_TOKEN", "", "the bearer token GET /metrics requires, on the platform host and on --metrics-addr (empty: none)", secretFromEnv(&c.MetricsToken)},
		{"", "CONDO_JWT_SECRET", "", "signs tokens (at least 32 bytes); empty: generated once and kept in the catalog", secretFromEnv(&c.JWTSecret)},
		{"", "CONDO_CATALOG_TOKEN", "", "the control plane's token: what --catalog authenticates with, and what --serve-catalog requires (at least 16 bytes)", secretFromEnv(&c.CatalogToken)},
		{"", "CONDO_ADMIN_EMAIL", "admin@localhost", "the first platform admin's email", fromEnv(&c.AdminEmail)},
		{"", "CONDO_ADMIN_PASSWORD", "", "the first platform admin's password, and that of condo admins create", secretFromEnv(&c.AdminPassword)},
		{"", "CONDO_PASSWORD", "", "the password of condo users create", secretFromEnv(&c.Password)},
		{"", "CONDO_LOCATION_TOKEN", "", "the auth token of condo tenants create --location (else read from standard input when it is not a terminal)", secretFromEnv(&c.LocationToken)},
		{"", EnvTenantMigrations, "", "a directory of migration files replacing the embedded tenant set", fromEnv(&c.TenantMigrations)},
	}
}

// register adds the settings named in names (all when names is nil) to fs,
// with defaults taken from the environment where set. Settings without a
// flag are read from the environment whatever names says.
func (c *Config) register(fs *flag.FlagSet, names ...string) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, s := range c.settings() {
		if names != nil && s.flag != "" && !want[s.flag] {
			continue
		}
		v := s.def
		if e, ok := os.LookupEnv(s.env); ok && e != "" {
			v = e
		}
		if s.flag == "region" && v == "" {
			v = os.Getenv("FLY_REGION")
		}
		if err := s.bind(fs, s.flag, v, s.help+" ($"+s.env+")"); err != nil {
			return fmt.Errorf("bad setting %s", err)
		}
	}
	return nil
}
