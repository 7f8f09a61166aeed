package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/api"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/backup"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/jobs"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/move"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/plugins"
	"github.com/condohq/condo/plugins/shipped"
	"github.com/condohq/condo/route"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
	condousage "github.com/condohq/condo/usage"
	"github.com/condohq/condo/webhooks"
)

// webhookTenants gives the webhook worker a tenant's database through the
// server's pool (never another tenant's: the id is the outbox's).
type webhookTenants struct{ store *tenantstore.Store }

func (w webhookTenants) OpenTenant(ctx context.Context, id string) (condo.DB, func(), error) {
	h, release, err := w.store.Acquire(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return h.DB, release, nil
}

// parseServe fills m.Config from serve's flags and the environment.
func (m *Main) parseServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported as one line, help by commandHelp
	if err := m.Config.register(fs); err != nil {
		return usagef("%v", err)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(m.Stdout, commandHelp("serve [FLAGS]", fs))
			return errHelpShown
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments, got %q", fs.Arg(0))
	}
	return nil
}

// serve runs the server with m.Config until ctx ends, then shuts down
// gracefully: stop accepting, finish in-flight requests, stop the jobs,
// close the pool and the catalog.
func (m *Main) serve(ctx context.Context) error {
	ctx = catalog.WithActor(ctx, "system") // the server's jobs; a request names its admin
	cfg := m.Config
	log, err := newLogger(m.Stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return usagef("%v", err)
	}
	if cfg.BodyTimeout <= 0 || cfg.UploadTimeout <= 0 {
		return usagef("--body-timeout and --upload-timeout must be positive")
	}
	cors, err := serverCORS(cfg.CORSOrigins)
	if err != nil {
		return usagef("--cors-origins: %s", condo.ErrorMessage(err))
	}

	if cfg.Heartbeat <= 0 {
		return usagef("--heartbeat-interval must be positive")
	}
	if cfg.ForwardTimeout <= 0 {
		return usagef("--forward-timeout must be positive")
	}
	// The node's settings are checked before anything is written; its id
	// may still be generated, after the catalog exists.
	probe := catalog.NodeInfo{ID: cmp.Or(cfg.NodeID, "node"), Region: cfg.Region, AdvertiseURL: cfg.AdvertiseURL, Heartbeat: cfg.Heartbeat}
	if err := catalog.ValidateNodeInfo(probe); err != nil {
		return usagef("%s", condo.ErrorMessage(err))
	}
	residency, err := catalog.ParseResidencySets(cfg.ResidencySets)
	if err != nil {
		return usagef("--residency-sets: %v", err)
	}

	set, err := tenantMigrations(cfg.TenantMigrations)
	if err != nil {
		return err
	}
	secret := string(cfg.JWTSecret) // else a generated one, kept in the catalog
	if secret != "" && len(secret) < 32 {
		return usagef("CONDO_JWT_SECRET must be at least 32 bytes long")
	}

	switch token := string(cfg.CatalogToken); {
	case cfg.ServeCatalog && cfg.Catalog != "":
		return usagef("--serve-catalog serves this node's own catalog: it cannot be combined with --catalog")
	case cfg.ServeCatalog && len(token) < 16:
		return usagef("--serve-catalog needs CONDO_CATALOG_TOKEN, at least 16 bytes long")
	}

	ps, err := plans.Load(cfg.Plans, log)
	if err != nil {
		return usagef("--plans: %s", err)
	}
	cat, err := openCatalog(ctx, &cfg, catalog.Config{BaseDomain: cfg.BaseDomain, HeaderFallback: cfg.HeaderFallback,
		CacheTTL: cfg.ResolveTTL, DefaultTenant: cfg.DefaultTenant, Region: cfg.Region, ResidencySets: residency, Plans: ps})
	if err != nil {
		return err
	}
	defer cat.Close()
	sweeper := &cms.MediaSweeper{Logger: log}     // crash leftovers in media folders; run by the jobs below
	backups, err := newReplicator(&cfg, cat, log) // nil: --backup-url is not set
	if err != nil {
		return err
	}
	scfg := tenantstore.Config{
		DataDir: cfg.Data, PoolSize: cfg.PoolSize, Logger: log,
		DB: sqlitedb.Options{FullSync: cfg.FullSync}, Migrations: set,
		OnOpen: sweeper.Opened,
	}
	if backups != nil {
		scfg.Backups = backups
	}
	store := tenantstore.New(cat, scfg)
	if err := m.bootstrap(ctx, &cfg, cat, store, log); err != nil {
		store.Close(context.Background())
		return err
	}
	if id := cfg.DefaultTenant; id != "" {
		// Not fatal: the tenant may be created after the start.
		if _, err := cat.Lookup(ctx, id); condo.ErrorCode(err) == condo.ENOTFOUND {
			log.Warn("the default tenant does not exist: hosts that match no tenant answer 404 until it does", "default_tenant", id)
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		store.Close(context.Background())
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	ln = api.LimitConnsPerIP(ln, cfg.MaxConnsPerIP)
	node, err := nodeInfo(ctx, cfg, ln.Addr())
	if err == nil {
		err = cat.RegisterNode(ctx, node)
	}
	if err != nil {
		ln.Close()
		store.Close(context.Background())
		return err
	}
	// Said last, after the jobs and the pool have stopped, on every way
	// out from here: a node that dies instead goes stale when its
	// heartbeats stop.
	nodeStopped := false
	stopNode := func() {
		if nodeStopped {
			return
		}
		nodeStopped = true
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := cat.StopNode(sctx, node.ID); err != nil {
			log.Warn("could not record this node as stopped", "node", node.ID, "err", err)
		}
	}
	defer stopNode()
	mailer, err := newMailer(cfg, cat, log)
	if err != nil {
		store.Close(context.Background())
		return usagef("%v", err)
	}
	// The server's long-running work is owned here, not by the HTTP
	// server: started before serving, stopped after the last request.
	work := jobs.New(cat, store, jobs.Config{Logger: log})
	if cfg.MoveRetention <= 0 {
		store.Close(context.Background())
		return usagef("--move-retention must be positive")
	}
	work.Moves(move.New(move.Config{Catalog: cat, Store: store, DataDir: cfg.Data, NodeID: node.ID, Region: cfg.Region,
		Retention: cfg.MoveRetention, Logger: log}))
	// One content cache for the process: the scheduler's writes drop the
	// server's cached answers through it, as the server's own writes do.
	content := cms.NewCache(api.DefaultContentCache, cat.Config().CacheTTL, nil)
	// The tenants' plugins: api.New makes them the content cache's hooks;
	// hooks left running past their timeout are waited for at shutdown.
	pluginRunner := plugins.NewRunner(shipped.Registry(), plugins.Config{Logger: log, TTL: cat.Config().CacheTTL, Allowed: api.PluginGate(cat)})
	// The libSQL endpoint's streams: reaped by one of the jobs, and all
	// closed (rolled back) when the jobs stop, before the pool closes.
	streams := hrana.New(store, hrana.Config{Logger: log, MaxStreams: cfg.MaxStreams, NodeID: node.ID})
	work.Loop(streams.Run)
	work.Loop(heartbeat(cat, node, log))
	if secret == "" {
		// Read (or generate) the catalog's signing secret now, not at the
		// first login: a node that later loses its control plane still
		// verifies and issues tokens for the tenants it keeps serving.
		key, err := auth.NewKeys(cat, nil).Key(ctx)
		if err != nil {
			ln.Close()
			store.Close(context.Background())
			return err
		}
		secret = string(key)
	}
	var catalogEP api.CatalogEndpoint
	if cfg.ServeCatalog {
		// Its own registry: tenants' streams can never use up the
		// control plane's, and every node may keep a few open.
		catalogEP = api.CatalogEndpoint{Token: string(cfg.CatalogToken),
			Streams: hrana.New(nil, hrana.Config{Logger: log, MaxStreams: api.CatalogStreams, MaxTenantStreams: api.CatalogStreams})}
		work.Loop(catalogEP.Streams.Run)
	}
	if cat.Remote() != "" {
		// What resolution falls back on while the control plane is
		// unreachable (stale-while-unavailable).
		work.Loop(func(ctx context.Context) { cat.RunKnown(ctx, 0) })
	}
	// Per-tenant usage: counted by the server, flushed by a loop of the
	// jobs (every --usage-flush-interval, and once more when the jobs
	// stop, after the last request) and once more below before the
	// catalog closes.
	if cfg.UsageFlush <= 0 {
		store.Close(context.Background())
		return usagef("--usage-flush-interval must be positive")
	}
	meter := condousage.New(nil)
	flusher := &condousage.Flusher{Meter: meter, Catalog: cat, Store: store, Every: cfg.UsageFlush, Logger: log}
	work.Loop(flusher.Run)
	if cfg.Signup {
		if _, ok := cat.Plans().Lookup(cfg.SignupPlan); !ok {
			return usagef("--signup-plan %q is not a plan: use one of %s", cfg.SignupPlan, strings.Join(cat.Plans().Names(), ", "))
		}
		if cfg.SignupPerEmail < 1 {
			return usagef("--signup-per-email must be at least 1")
		}
	}
	handler := api.New(cat, store, api.Config{Usage: meter, MetricsToken: string(cfg.MetricsToken), Logger: log, BodyLimit: cfg.BodyLimit, Secret: []byte(secret),
		Mailer: mailer, ClientIPHeader: cfg.ClientIPHeader, BodyTimeout: cfg.BodyTimeout, UploadTimeout: cfg.UploadTimeout,
		CORS: cors, Jobs: work, Content: content, Plugins: pluginRunner, Streams: streams, NodeID: node.ID, Version: node.Version, Catalog: catalogEP,
		Backups: backups, WakeArchived: cfg.WakeArchived, Signup: cfg.Signup,
		SignupLimits: api.SignupLimits{Plan: cfg.SignupPlan, PerEmail: cfg.SignupPerEmail}, Webhooks: api.WebhooksConfig{AllowPrivate: cfg.WebhooksPrivate},
		Routing: api.Routing{Region: cfg.Region, Nodes: route.NewNodes(cat, node.ID, 0),
			FlyReplay: os.Getenv("FLY_REGION") != "" && !cfg.Forward, Timeout: cfg.ForwardTimeout}})
	if cfg.WebhooksRetry <= 0 {
		return usagef("--webhooks-first-retry must be positive")
	}
	// Webhook deliveries: tenants' outboxes through the pool, the
	// platform's in the catalog.
	deliveries := webhooks.NewWorker(webhooks.Config{Tenants: webhookTenants{store}, Known: cat.WebhookTenants, Written: cat.WebhookTenantsWritten,
		Platform: cat.WebhookDB(), AllowPrivate: cfg.WebhooksPrivate, FirstRetry: cfg.WebhooksRetry,
		UserAgent: "Condo-Webhooks/" + node.Version, Logger: log})
	work.Loop(deliveries.Run)
	sched := &cms.Scheduler{Catalog: cat, Store: store, Logger: log, Cache: content}
	work.Loop(sched.Run)
	work.Loop(func(ctx context.Context) { sweeper.Run(ctx, store) }) // crash leftovers in media folders
	if cfg.ArchiveIdle < 0 {
		return usagef("--archive-idle must not be negative")
	}
	if cfg.SnapshotEvery < 0 || cfg.SnapshotKeep < 0 || cfg.SnapshotMaxAge < 0 {
		return usagef("--snapshot-every, --snapshot-keep and --snapshot-max-age must not be negative")
	}
	if cfg.SnapshotEvery > 0 { // local scheduled snapshots (backup/snapshots.go)
		snaps := &backup.Snapshotter{Store: store, DataDir: cfg.Data, Every: cfg.SnapshotEvery, Keep: cfg.SnapshotKeep, MaxAge: cfg.SnapshotMaxAge, Logger: log}
		work.Loop(snaps.Run)
	}
	if cfg.ArchiveIdle > 0 {
		work.Loop(archiveIdle(cat, store, cfg.ArchiveIdle, node.Version, log))
	}
	// Lifecycle jobs a dead process left running: marked interrupted
	// (the tenant is whole already: each operation's steps see to it);
	// then the deletes a crash interrupted: finished, once.
	work.Loop(func(ctx context.Context) {
		if n, err := cat.InterruptStaleJobs(ctx); err != nil {
			log.Error("mark interrupted lifecycle jobs", "err", err)
		} else if n > 0 {
			log.Warn("marked lifecycle jobs interrupted: their process stopped before they ended", "jobs", n)
		}
		if n, err := cat.PruneJobs(ctx, time.Now().Add(-catalog.JobRetention)); err != nil {
			log.Error("prune lifecycle jobs", "err", err)
		} else if n > 0 {
			log.Info("pruned finished lifecycle jobs", "jobs", n, "older_than", catalog.JobRetention)
		}
		if n, err := lifecycle.ResumeDeletes(ctx, cat, store); err != nil {
			log.Error("finish interrupted tenant deletes", "err", err)
		} else if n > 0 {
			log.Info("finished interrupted tenant deletes", "tenants", n)
		}
	})
	if backups != nil {
		// Started last before serving and closed after the store (whose
		// Close gives each written tenant its final sync through it).
		if err := backups.Start(ctx); err != nil {
			ln.Close()
			store.Close(context.Background())
			return fmt.Errorf("backups: %w", err)
		}
		defer backups.Close(context.Background())
		log.Info("continuous backups on", "url", backups.Redacted(), "lag_alert", cfg.BackupLagAlert)
	}
	if err := work.Start(ctx); err != nil {
		ln.Close()
		store.Close(context.Background())
		return err
	}
	var mln net.Listener
	if cfg.MetricsAddr != "" {
		if mln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			work.Close(context.Background())
			ln.Close()
			store.Close(context.Background())
			return fmt.Errorf("listen on --metrics-addr %s: %w", cfg.MetricsAddr, err)
		}
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("condo serving", "addr", ln.Addr().String(), "data", cfg.Data, "catalog", cmp.Or(cat.Remote(), "local"),
		"serves_catalog", cfg.ServeCatalog, "base_domain", cat.Config().BaseDomain,
		"region", cfg.Region, "node", node.ID, "advertise_url", node.AdvertiseURL, "pool_size", store.PoolSize(),
		"metrics_addr", cfg.MetricsAddr)
	if m.Ready != nil {
		m.Ready(ln.Addr().String())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }() // owned here; ends at Shutdown
	var metricsSrv *http.Server
	if mln != nil {
		metricsSrv = &http.Server{Handler: handler.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go metricsSrv.Serve(mln) // owned here; ends at Shutdown below (or Close on an early return)
		defer metricsSrv.Close()
	}

	select {
	case err := <-served:
		work.Close(context.Background())
		flusher.Flush(context.Background())
		store.Close(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	serr := srv.Shutdown(sctx)
	<-served
	if metricsSrv != nil {
		metricsSrv.Shutdown(sctx)
	}
	if err := work.Close(sctx); err != nil { // stops a fleet run (its tenants roll back) and the loops, before the store closes
		serr = errors.Join(serr, err)
	}
	if err := pluginRunner.Close(sctx); err != nil {
		serr = errors.Join(serr, err)
	}
	// The usage loop flushed as it stopped; this retries a flush that
	// failed. Still failing (a full disk), the minute's usage is lost:
	// logged, not a failed shutdown, since every write is safe.
	if err := flusher.Flush(sctx); err != nil {
		log.Error("the last usage counts could not be written: they are lost", "err", err)
	}
	if err := store.Close(sctx); err != nil {
		serr = errors.Join(serr, err)
	}
	stopNode() // before the log says so, so whoever reads "stopped" finds it recorded
	if serr != nil {
		return fmt.Errorf("shutdown: %w", serr)
	}
	log.Info("stopped")
	return nil
}

// bootstrap makes a fresh data directory usable at once: a tenant
// "default" and a platform admin. It runs once per catalog; deleting the
// default tenant later does not bring it back.
func (m *Main) bootstrap(ctx context.Context, cfg *Config, cat *catalog.Catalog, store *tenantstore.Store, log *slog.Logger) error {
	if _, err := cat.Meta(ctx, "bootstrapped"); err == nil {
		return nil
	} else if condo.ErrorCode(err) != condo.ENOTFOUND {
		return err
	}
	if _, err := store.Create(ctx, catalog.NewTenant{ID: "default", Name: "Default"}); err != nil && condo.ErrorCode(err) != condo.ECONFLICT {
		return fmt.Errorf("create the default tenant: %w", err)
	}
	n, err := cat.CountAdmins(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		email := cfg.AdminEmail
		if email == "" {
			email = "admin@localhost"
		}
		password, generated := string(cfg.AdminPassword), false
		if password == "" {
			password, generated = generatePassword(), true
		}
		if _, err := cat.CreateAdmin(ctx, email, password); err != nil {
			return fmt.Errorf("create the platform admin: %w", err)
		}
		if generated {
			// Printed once, to the terminal, never to the log; before
			// anything else can fail, so it is never lost.
			fmt.Fprintf(m.Stdout, "\n  Admin (platform and tenant default): %s\n  Password: %s\n  (shown once; set CONDO_ADMIN_PASSWORD to choose it)\n\n", email, password)
		}
		// The same person administers the default tenant, so a first run
		// can sign in at default.<base-domain> as well as on the platform.
		err := withIdentity(ctx, cat, store, "default", func(t *catalog.Tenant, st *auth.Store) error {
			_, err := createUser(ctx, t, st, email, password, auth.RoleAdmin)
			return err
		})
		if err != nil && condo.ErrorReason(err) != "user_exists" {
			return fmt.Errorf("create the default tenant's admin (add one with condo users create default EMAIL --role admin): %w", err)
		}
		log.Info("created platform admin and default tenant admin", "email", email)
	}
	if _, err := cat.SetMetaOnce(ctx, "bootstrapped", time.Now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	log.Info("bootstrapped a new data directory", "tenant", "default", "host", "default."+cat.Config().BaseDomain)
	return nil
}

func generatePassword() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: use text or json", format)
}

// serverCORS is the policy of --cors-origins: those origins, with the
// default methods and headers and no credentials; nil when empty.
func serverCORS(origins string) (*api.CORS, error) {
	var p api.CORS
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			p.AllowedOrigins = append(p.AllowedOrigins, o)
		}
	}
	if len(p.AllowedOrigins) == 0 {
		return nil, nil
	}
	return &p, p.Validate()
}

// archiveIdle is the loop that archives tenants idle for idle, checking
// every tenth of it (between a minute and an hour).
func archiveIdle(cat *catalog.Catalog, store *tenantstore.Store, idle time.Duration, version string, log *slog.Logger) func(context.Context) {
	every := min(max(idle/10, time.Minute), time.Hour)
	return func(ctx context.Context) {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := lifecycle.ArchiveIdle(ctx, cat, store, idle, version, func(id string, err error) {
				log.Warn("archive an idle tenant", "tenant", id, "err", err)
			})
			if err != nil && ctx.Err() == nil {
				log.Error("archive idle tenants", "err", err)
			} else if n > 0 {
				log.Info("archived idle tenants", "tenants", n)
			}
		}
	}
}
