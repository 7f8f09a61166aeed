package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/route"
)

// Routing: a request for a tenant whose home region is not this node's
// is replayed there by Fly's proxy (fly-replay) or proxied to a healthy
// node of that region. A forwarded request carries a signed marker
// (route.MarkerHeader) and is served where it lands, so nothing loops.

// NodeHeader names the node that served an answer, on every answer.
const NodeHeader = "X-Condo-Node"

// MaxReplayBody is the largest request body Fly's proxy replays; larger
// ones (or ones of unknown length) are proxied instead.
const MaxReplayBody = 1 << 20

// DefaultForwardTimeout bounds the wait for a forwarded request's answer
// headers (the body streams without a bound).
const DefaultForwardTimeout = 30 * time.Second

// replayStatus is the status of a fly-replay answer: Fly's proxy replays
// on the header whatever the status, and a client that reaches the node
// without that proxy sees a refusal rather than an empty success.
const replayStatus = http.StatusConflict

// Routing configures forwarding (Config.Routing).
type Routing struct {
	Region string       // this node's; empty: every request is served here
	Nodes  *route.Nodes // the catalog's nodes; nil: every request is served here
	// FlyReplay answers with fly-replay rather than proxying (on Fly.io,
	// unless --forward): the request is replayed by Fly's proxy, which
	// also marks it with fly-replay-src, trusted only then.
	FlyReplay bool
	Timeout   time.Duration // see DefaultForwardTimeout
}

// router is a server's forwarding state.
type router struct {
	Routing
	secret    *route.Secret
	transport *http.Transport
	clientIP  string // the configured client IP header, set on forwarded requests
	self      string // this node's id: the batons of its own streams name it
}

func newRouter(r Routing, secret *route.Secret, clientIPHeader, self string) *router {
	if r.Timeout <= 0 {
		r.Timeout = DefaultForwardTimeout
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &router{Routing: r, secret: secret, clientIP: clientIPHeader, self: self, transport: &http.Transport{
		DialContext:           dialer.DialContext,
		ResponseHeaderTimeout: r.Timeout,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true, // the client's Accept-Encoding goes through as it is
	}}
}

// routeHome runs after tenant resolution: it serves the request here,
// replays it or forwards it to the tenant's home region.
func (s *Server) routeHome(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rt := s.router
		if rt == nil || rt.Nodes == nil || rt.Region == "" {
			return next(c)
		}
		r := c.Request()
		if m := r.Header.Get(route.MarkerHeader); m != "" {
			key, err := rt.secret.Key(r.Context())
			if err != nil {
				return err
			}
			ip, err := route.Verify(key, m, r.Method, r.Host, r.URL.Path, time.Now())
			if err != nil {
				// Logged only: the tenant's own log may not live on this node.
				logger(c).Warn("security: refused a forwarded request with a bad marker", "err", err, "client_ip", c.RealIP())
				return err
			}
			// The client is the one the forwarding node vouched for, not
			// that node: per-address throttles and logs see the client.
			if parsed := net.ParseIP(ip); parsed != nil {
				r.RemoteAddr = net.JoinHostPort(parsed.String(), "0")
			}
			return next(c) // forwarded once: served here, whatever the regions say
		}
		if rt.FlyReplay && r.Header.Get("Fly-Replay-Src") != "" {
			return next(c)
		}
		home := tenantOf(c).Region
		stream := streamNode(r) // a libSQL request continuing a stream: the node holding it
		if stream == rt.self {
			stream = ""
		}
		if home == "" || home == rt.Region {
			if stream == "" || !rt.up(r.Context(), rt.Region, stream) {
				return next(c) // served here (a stream of a node gone is expired)
			}
			home = rt.Region // the stream is on another node of this region
		}
		c.Set(ctxForwarded, true) // served elsewhere: metered where it is
		if rt.FlyReplay && replayable(r) && stream != "" {
			c.Response().Header().Set("Fly-Replay", "instance="+stream) // node ids on Fly are machine ids
			return c.NoContent(replayStatus)
		}
		if rt.FlyReplay && replayable(r) {
			up, err := rt.Nodes.Up(r.Context(), home)
			if err != nil {
				return err
			}
			if len(up) == 0 {
				return route.Unavailable(home)
			}
			c.Response().Header().Set("Fly-Replay", "region="+home)
			return c.NoContent(replayStatus)
		}
		return s.forward(c, home, tenantOf(c).ID, stream)
	}
}

// up reports whether node is a healthy node of region.
func (rt *router) up(ctx context.Context, region, node string) bool {
	up, err := rt.Nodes.Up(ctx, region)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(up, func(n catalog.Node) bool { return n.ID == node && n.AdvertiseURL != "" })
}

// batonField finds a libSQL request's baton near the start of its body,
// where the clients put it.
var batonField = regexp.MustCompile(`"baton"\s*:\s*"([A-Za-z0-9_.-]{1,256})"`)

// streamNode is the node a libSQL request's baton names ("" for none, or
// for a request that is not one): the first KiB of the body is read and
// put back.
func streamNode(r *http.Request) string {
	if r.Method != http.MethodPost || r.Body == nil || r.Body == http.NoBody || !isHranaPath(r.URL.Path) {
		return ""
	}
	head := make([]byte, 1<<10)
	n, _ := io.ReadFull(r.Body, head)
	head = head[:n]
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	m := batonField.FindSubmatch(head)
	if m == nil {
		return ""
	}
	return hrana.BatonNode(string(m[1]))
}

// replayable: Fly's proxy replays bodies of at most MaxReplayBody, and
// only of a known length.
func replayable(r *http.Request) bool {
	if r.ContentLength > MaxReplayBody {
		return false
	}
	return r.ContentLength >= 0 || r.Body == nil || r.Body == http.NoBody
}

// forward proxies the request to a healthy node of region (the one
// tenantID's requests go to, or prefer when it is one of them) and
// streams its answer back.
func (s *Server) forward(c echo.Context, region, tenantID, prefer string) error {
	rt := s.router
	r := c.Request()
	node, err := rt.Nodes.Pick(r.Context(), region, tenantID, prefer)
	if err != nil {
		return err
	}
	target, err := url.Parse(node.AdvertiseURL)
	if err != nil {
		return route.Unavailable(region)
	}
	key, err := rt.secret.Key(r.Context())
	if err != nil {
		return err
	}
	w := c.Response()
	requestID := w.Header().Get(echo.HeaderXRequestID)
	clientIP := c.RealIP()
	var proxyErr error
	proxy := &httputil.ReverseProxy{
		Transport:     rt.transport,
		FlushInterval: -1, // the libSQL cursor streams its rows
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // the tenant is resolved from it
			pr.Out.URL.Path, pr.Out.URL.RawPath = pr.In.URL.Path, pr.In.URL.RawPath
			pr.Out.Header.Set("X-Forwarded-For", clientIP)
			if rt.clientIP != "" {
				pr.Out.Header.Set(rt.clientIP, clientIP)
			}
			pr.Out.Header.Set(echo.HeaderXRequestID, requestID)
			pr.Out.Header.Set(route.MarkerHeader, route.Sign(key, pr.In.Method, pr.In.Host, pr.In.URL.Path, clientIP, time.Now()))
		},
		ModifyResponse: func(res *http.Response) error {
			// The home node's headers replace those this node set
			// (security headers, CORS, its node id): not doubled.
			for k := range res.Header {
				w.Header().Del(k)
			}
			return nil
		},
		ErrorHandler: func(_ http.ResponseWriter, _ *http.Request, err error) { proxyErr = err },
	}
	addLogAttrs(c, slog.String("forwarded_to", node.ID))
	proxy.ServeHTTP(w, r)
	if proxyErr == nil {
		return nil
	}
	if errors.Is(proxyErr, context.Canceled) && r.Context().Err() != nil {
		return proxyErr // the client went away: handleError says so
	}
	logger(c).Warn("forwarding failed", "node", node.ID, "region", region, "err", proxyErr)
	var ne net.Error
	if errors.As(proxyErr, &ne) && ne.Timeout() && !isDial(proxyErr) {
		return &echo.HTTPError{Code: http.StatusGatewayTimeout,
			Message: fmt.Sprintf("the tenant's home node did not begin to answer within %s", rt.Timeout)}
	}
	return route.Unavailable(region)
}

// isDial reports an error of connecting, not of waiting for the answer.
func isDial(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// nodeHeader names this node on every answer.
func nodeHeader(id string) echo.MiddlewareFunc {
	v := []string{id}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header()[NodeHeader] = v
			return next(c)
		}
	}
}
