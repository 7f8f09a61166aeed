package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// Defaults of a CORS policy's lists and preflight lifetime.
var (
	DefaultCORSMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
	DefaultCORSHeaders = []string{"Authorization", "Content-Type", "If-Match", "If-None-Match",
		"If-Modified-Since", "If-Unmodified-Since", "X-Request-Id"}
	DefaultCORSExposed = []string{"ETag", "Location", "Retry-After", "X-Request-Id"}
)

// DefaultCORSMaxAge is how long a browser may keep a preflight's answer,
// in seconds; MaxCORSMaxAge caps it.
const (
	DefaultCORSMaxAge = 600
	MaxCORSMaxAge     = 86400
)

// corsSetting names the policy in a tenant's catalog settings.
const corsSetting = "cors"

// CORS is a cross-origin policy: which browser origins may call the API,
// with which methods and headers, whether with credentials (cookies, HTTP
// authentication) and how long a preflight holds. Empty lists take the
// defaults above; an empty AllowedOrigins allows no origin. A tenant sets
// its own in PUT /api/settings ("cors"); Config.CORS is the server's,
// for tenants that set none.
type CORS struct {
	AllowedOrigins   []string `json:"allowed_origins"` // "https://app.example.com", or "*"
	AllowedMethods   []string `json:"allowed_methods,omitempty"`
	AllowedHeaders   []string `json:"allowed_headers,omitempty"`
	ExposedHeaders   []string `json:"exposed_headers,omitempty"`
	AllowCredentials bool     `json:"allow_credentials,omitempty"`
	MaxAge           int      `json:"max_age,omitempty"` // seconds; 0: DefaultCORSMaxAge
}

// Validate checks the policy and normalises it (origins lower case, methods
// upper case). It refuses "*" with AllowCredentials: a browser would refuse
// it too, and reflecting any origin instead would hand every site the
// user's credentials.
//
// Errors: EINVALID (invalid_cors).
func (p *CORS) Validate() error {
	bad := func(format string, args ...any) error {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_cors", format, args...)
	}
	if len(p.AllowedOrigins) > 100 || len(p.AllowedMethods) > 20 || len(p.AllowedHeaders) > 50 || len(p.ExposedHeaders) > 50 {
		return bad("cors allows at most 100 origins, 20 methods and 50 headers")
	}
	for i, o := range p.AllowedOrigins {
		if o == "*" {
			if p.AllowCredentials {
				return bad(`allow_credentials cannot go with the origin "*": list the origins`)
			}
			continue
		}
		norm, ok := normalOrigin(o)
		if !ok {
			return bad("invalid origin %q: use scheme://host[:port], such as https://app.example.com, or *", condo.Clip(o))
		}
		p.AllowedOrigins[i] = norm
	}
	for i, m := range p.AllowedMethods {
		if !isToken(m) {
			return bad("invalid method %q", condo.Clip(m))
		}
		p.AllowedMethods[i] = strings.ToUpper(m)
	}
	for _, list := range [][]string{p.AllowedHeaders, p.ExposedHeaders} {
		for _, h := range list {
			if !isToken(h) {
				return bad("invalid header name %q", condo.Clip(h))
			}
		}
	}
	if p.MaxAge < 0 || p.MaxAge > MaxCORSMaxAge {
		return bad("max_age is 0 to %d seconds", MaxCORSMaxAge)
	}
	return nil
}

// normalOrigin returns o as a browser sends it in Origin (lower-case
// scheme and host, no default port, no path), if o is an origin.
func normalOrigin(o string) (string, bool) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(u.Host, "*") {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if port := u.Port(); u.Scheme == "https" && port == "443" || u.Scheme == "http" && port == "80" {
		host = strings.ToLower(u.Hostname())
	}
	return u.Scheme + "://" + host, true
}

func isToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// Handle applies the policy to a request: it sets the CORS headers of the
// answer and reports whether it answered the request itself (a preflight:
// OPTIONS with Access-Control-Request-Method, 204). It works on plain
// net/http types so any endpoint can use it (the libSQL one included).
// A nil policy allows no origin.
func (p *CORS) Handle(w http.ResponseWriter, r *http.Request) (answered bool) {
	h := w.Header()
	// The answer depends on these whether or not they allow the origin,
	// so a shared cache must not give one origin's answer to another.
	h.Add("Vary", "Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if preflight {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false // not a cross-origin browser request
	}
	if p == nil || !p.allows(origin) {
		if preflight {
			w.WriteHeader(http.StatusNoContent) // without Allow-Origin: the browser refuses
		}
		return preflight
	}
	if slices.Contains(p.AllowedOrigins, "*") && !p.AllowCredentials {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if p.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if !preflight {
		h.Set("Access-Control-Expose-Headers", strings.Join(orDefault(p.ExposedHeaders, DefaultCORSExposed), ", "))
		return false
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(orDefault(p.AllowedMethods, DefaultCORSMethods), ", "))
	h.Set("Access-Control-Allow-Headers", strings.Join(orDefault(p.AllowedHeaders, DefaultCORSHeaders), ", "))
	maxAge := p.MaxAge
	if maxAge == 0 {
		maxAge = DefaultCORSMaxAge
	}
	h.Set("Access-Control-Max-Age", strconv.Itoa(maxAge))
	w.WriteHeader(http.StatusNoContent)
	return true
}

func (p *CORS) allows(origin string) bool {
	for _, o := range p.AllowedOrigins {
		if o == "*" || o == origin {
			return true
		}
	}
	return false
}

func orDefault(list, def []string) []string {
	if len(list) == 0 {
		return def
	}
	return list
}

// cors applies the CORS policy of the request's tenant (its own, else the
// server's) to every tenant route, before authentication, so preflights
// (which carry no credentials) are answered and errors stay readable by
// the allowed front end. Platform routes have no tenant and no CORS.
func (s *Server) cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if strings.HasPrefix(r.URL.Path, "/platform/") || isCondoPath(r.URL.Path) {
			return next(c) // not for browsers: no CORS answer
		}
		if isHranaPath(r.URL.Path) { // any origin, whatever the tenant's policy
			if hranaCORS.Handle(c.Response(), r) {
				return nil
			}
			return next(c)
		}
		var p *CORS
		if r.Header.Get("Origin") != "" {
			t, err := s.catalog.ResolveHost(r.Context(), r.Host, r.Header.Get("X-Tenant-ID"))
			if err != nil {
				return next(c) // the route answers the unknown host
			}
			p = s.corsOf(c, t)
		}
		if p.Handle(c.Response(), r) {
			return nil
		}
		return next(c)
	}
}

// corsOf is the tenant's own policy, else the server's.
func (s *Server) corsOf(c echo.Context, t *catalog.Tenant) *CORS {
	raw := tenantCORS(t)
	if raw == nil {
		return s.defaultCORS
	}
	var p CORS
	if err := json.Unmarshal(raw, &p); err != nil {
		logger(c).Warn("unreadable CORS policy: none applies", "tenant", t.ID, "err", err)
		return nil
	}
	return &p
}

// tenantCORS is the CORS section of a tenant's catalog settings, nil when
// it sets none.
func tenantCORS(t *catalog.Tenant) json.RawMessage {
	var settings struct {
		CORS json.RawMessage `json:"cors"`
	}
	if json.Unmarshal(t.Settings, &settings) != nil || settings.CORS == nil || bytes.Equal(settings.CORS, []byte("null")) {
		return nil
	}
	return settings.CORS
}

// parseCORS checks the cors section of PUT /api/settings and returns it
// normalised, or JSON null to go back to the server's policy.
func parseCORS(raw json.RawMessage) (json.RawMessage, error) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return json.RawMessage("null"), nil
	}
	var p CORS
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_cors", "invalid cors settings: %v", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(p)
}
