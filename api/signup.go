package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/mail"
)

// Defaults of SignupLimits.
const (
	DefaultSignupPlan     = "free"
	DefaultSignupPerEmail = 3
	DefaultSignupIPBurst  = 5
	DefaultSignupIPEvery  = 10 * time.Minute
	DefaultSignupTTL      = 24 * time.Hour
)

// SignupLimits bounds self-service sign-up (Config.Signup): what a
// visitor gets, and how much of it.
type SignupLimits struct {
	// Plan is the plan new tenants get (empty: DefaultSignupPlan).
	Plan string
	// PerEmail is how many tenants one email may sign up, counting those
	// that still exist (0: DefaultSignupPerEmail).
	PerEmail int
	// IPBurst sign-up submissions one client IP may make at once, then one
	// per IPEvery (0: the defaults). A submission counts whether or not it
	// is accepted. The same bucket size applies to each email address (so
	// links cannot flood an inbox from many IPs).
	IPBurst int
	IPEvery time.Duration
	// TTL is how long a verification link works (0: DefaultSignupTTL).
	TTL time.Duration
}

func (l SignupLimits) withDefaults() SignupLimits {
	l.Plan = cmp.Or(l.Plan, DefaultSignupPlan)
	l.PerEmail = cmp.Or(l.PerEmail, DefaultSignupPerEmail)
	l.IPBurst = cmp.Or(l.IPBurst, DefaultSignupIPBurst)
	l.IPEvery = cmp.Or(l.IPEvery, DefaultSignupIPEvery)
	l.TTL = cmp.Or(l.TTL, DefaultSignupTTL)
	return l
}

// signups is the server's sign-up state: its limits and the per-IP
// throttle of submissions.
type signups struct {
	limits   SignupLimits
	throttle *auth.Throttle
	// verifying is held from the per-email cap's check to the tenant's
	// creation, so two links of one email verified at once cannot both
	// pass the cap on this node (sign-ups are rare: one at a time is no
	// wait worth having).
	verifying sync.Mutex
}

func newSignups(l SignupLimits, now func() time.Time) *signups {
	l = l.withDefaults()
	t := auth.NewThrottle(l.IPBurst, l.IPEvery, 100_000)
	t.Now = now
	return &signups{limits: l, throttle: t}
}

// spend counts one submission against key, refusing it (429
// too_many_signups with Retry-After, what saying whose) while key's
// bucket is empty.
func (sg *signups) spend(c echo.Context, key, what string) error {
	if wait := sg.throttle.Wait(key); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return condo.ReasonErrorf(condo.ELIMITED, "too_many_signups", "%s: try again in %s", what, roundWait(wait))
	}
	sg.throttle.Hit(key)
	return nil
}

// Paths of the sign-up API, on the platform scope and public (the
// visitor has no account yet). They exist only with Config.Signup: else
// they are 404 like any unknown path.
const (
	SignupPath       = "/platform/signup"
	SignupCheckPath  = SignupPath + "/check"
	SignupVerifyPath = SignupPath + "/verify"
)

// StarterCollection is the collection a signed-up tenant starts with,
// holding one welcome draft.
const StarterCollection = "posts"

func (s *Server) signupRoutes() {
	if s.signups == nil {
		return
	}
	s.echo.Match(readMethods, SignupCheckPath, s.checkSubdomain)
	s.echo.POST(SignupPath, s.submitSignup)
	s.echo.POST(SignupVerifyPath, s.verifySignup)
}

// subdomainMessages say what each catalog.CheckSubdomain answer means.
var subdomainMessages = map[string]string{
	catalog.SubdomainAvailable: "is available",
	catalog.SubdomainTaken:     "is taken: pick another",
	catalog.SubdomainReserved:  "is reserved: pick another",
	catalog.SubdomainInvalid:   "is not a valid subdomain: use 1-63 lower-case letters, digits and dashes, not starting or ending with a dash",
}

// checkSubdomain serves GET /platform/signup/check?subdomain=: {"data":
// {subdomain, status, available, host, message}}, status one of
// available, taken, reserved, invalid. It is a snapshot: verification
// checks again.
func (s *Server) checkSubdomain(c echo.Context) error {
	id := strings.TrimSpace(c.QueryParam("subdomain"))
	if len(id) > 100 {
		id = id[:100]
	}
	st, err := s.catalog.CheckSubdomain(c.Request().Context(), id)
	if err != nil {
		return err
	}
	host := id + "." + s.catalog.BaseDomain(c.Request().Context())
	return c.JSON(http.StatusOK, map[string]any{"data": map[string]any{"subdomain": id, "status": st,
		"available": st == catalog.SubdomainAvailable, "host": host, "message": host + " " + subdomainMessages[st]}})
}

// subdomainError is the refusal of a subdomain that is not available.
func subdomainError(id, host, status string) error {
	msg := host + " " + subdomainMessages[status]
	var e *condo.Error
	switch status {
	case catalog.SubdomainTaken:
		e = condo.ReasonErrorf(condo.ECONFLICT, "subdomain_taken", "%s", msg)
	case catalog.SubdomainReserved:
		e = condo.ReasonErrorf(condo.EINVALID, "subdomain_reserved", "%s", msg)
	default:
		e = condo.ReasonErrorf(condo.EINVALID, "invalid_subdomain", "%q %s", condo.Clip(id), subdomainMessages[catalog.SubdomainInvalid])
	}
	e.Fields = map[string]string{"subdomain": e.Message}
	return e
}

// onField is err with its message as that of field (an input the
// visitor can correct), if err is a coded client error.
func onField(err error, field string) error {
	var e *condo.Error
	if !errors.As(err, &e) || e.Code == condo.EINTERNAL {
		return err
	}
	out := *e
	out.Fields = map[string]string{field: e.Message}
	return &out
}

// signupRequest is the body of POST /platform/signup.
type signupRequest struct {
	Subdomain string `json:"subdomain"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Password  string `json:"password"`
}

// submitSignup serves POST /platform/signup {subdomain, name, email,
// password}: it checks everything that can be checked now and mails a
// verification link; nothing is created until the link is opened. 202
// {"data": {email, subdomain, expires_at}}. Refusals: 429
// too_many_signups (per client IP and per email, with Retry-After), 400
// missing_fields, invalid_subdomain, subdomain_reserved, invalid_email,
// invalid_name, weak_password, 409 subdomain_taken, 403
// signup_limit_reached (the cap of tenants per email), 503 mail_failed.
func (s *Server) submitSignup(c echo.Context) error {
	ip := c.RealIP()
	if err := s.signups.spend(c, "ip\x00"+ip, "too many sign-ups from your network address"); err != nil {
		return err
	}
	var in signupRequest
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	in.Subdomain, in.Name, in.Email = strings.TrimSpace(in.Subdomain), strings.TrimSpace(in.Name), strings.TrimSpace(in.Email)
	if err := signupRequired(in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	email, err := catalog.NormalizeEmail(in.Email)
	if err != nil {
		return onField(err, "email")
	}
	// So that nobody floods an inbox with links from many addresses.
	if err := s.signups.spend(c, "email\x00"+email, "too many sign-ups for "+email); err != nil {
		return err
	}
	if err := s.subdomainFree(ctx, in.Subdomain); err != nil {
		return err
	}
	if err := auth.DefaultPasswordPolicy.Check(in.Password); err != nil {
		return onField(err, "password") // a new tenant's policy is the default
	}
	if err := s.underEmailCap(ctx, email); err != nil {
		return err
	}
	token := auth.NewSecret()
	now := s.now()
	// The password is hashed now, as a user's is: the catalog never holds
	// it, and the verification creates the user with this hash.
	sg := &catalog.Signup{Subdomain: in.Subdomain, Name: in.Name, Email: email, PasswordHash: auth.HashPassword(in.Password),
		ClientIP: ip, ExpiresAt: now.Add(s.signups.limits.TTL)}
	if err := s.catalog.CreateSignup(ctx, sg, auth.HashSecret(token), now); err != nil {
		if condo.ErrorReason(err) == "invalid_name" {
			return onField(err, "name")
		}
		return err
	}
	link := s.platformOrigin(c) + "/platform/admin/signup/verify?token=" + token
	host := in.Subdomain + "." + s.catalog.BaseDomain(ctx)
	err = s.mailer.Send(ctx, mail.Message{To: email, Subject: "Confirm your email to create " + host,
		Body: fmt.Sprintf("Someone (we hope you) asked to create the site %q at %s with this email address.\n\n"+
			"To create it and sign in to its admin, open this link before %s:\n\n  %s\n\n"+
			"If it was not you, ignore this mail: nothing is created without the link.\n",
			in.Name, host, sg.ExpiresAt.UTC().Format(time.RFC1123), link)})
	if err != nil {
		logger(c).Error("send sign-up verification", "signup", sg.ID, "err", err)
		return condo.ReasonErrorf(condo.EUNAVAILABLE, "mail_failed", "the verification mail could not be sent: try again later")
	}
	return c.JSON(http.StatusAccepted, map[string]any{"data": map[string]any{
		"email": email, "subdomain": in.Subdomain, "expires_at": sg.ExpiresAt.UTC()}})
}

func signupRequired(in signupRequest) error {
	fields := map[string]string{}
	for _, f := range [][2]string{{"subdomain", in.Subdomain}, {"name", in.Name}, {"email", in.Email}, {"password", in.Password}} {
		if f[1] == "" {
			fields[f[0]] = "required"
		}
	}
	if len(fields) == 0 {
		return nil
	}
	e := condo.ReasonErrorf(condo.EINVALID, "missing_fields", "fill in every field: subdomain, site name, email and password")
	e.Fields = fields
	return e
}

// roundWait writes a wait the way a person reads it.
func roundWait(d time.Duration) string {
	if d < time.Minute {
		return strconv.Itoa(int((d+time.Second-1)/time.Second)) + " seconds"
	}
	return strconv.Itoa(int((d+time.Minute-1)/time.Minute)) + " minutes"
}

// subdomainFree refuses a subdomain that is not available now.
func (s *Server) subdomainFree(ctx context.Context, id string) error {
	st, err := s.catalog.CheckSubdomain(ctx, id)
	if err != nil {
		return err
	}
	if st != catalog.SubdomainAvailable {
		return subdomainError(id, id+"."+s.catalog.BaseDomain(ctx), st)
	}
	return nil
}

// underEmailCap refuses an email that signed up its cap of tenants.
func (s *Server) underEmailCap(ctx context.Context, email string) error {
	n, err := s.catalog.SignedUpTenants(ctx, email)
	if err != nil {
		return err
	}
	if n >= s.signups.limits.PerEmail {
		e := condo.ReasonErrorf(condo.EFORBIDDEN, "signup_limit_reached",
			"%s has signed up %d sites, the most one email may: sign in to one of them, or use another email", email, n)
		e.Fields = map[string]string{"email": e.Message}
		return e
	}
	return nil
}

// platformOrigin is the platform host's origin as the visitor reaches it
// (a development host keeps the port the server answers on), for links
// in mails.
func (s *Server) platformOrigin(c echo.Context) string {
	host := "platform." + s.catalog.BaseDomain(c.Request().Context())
	if host == "platform.localhost" {
		if _, port, err := net.SplitHostPort(c.Request().Host); err == nil {
			host = net.JoinHostPort(host, port)
		}
		return "http://" + host
	}
	return "https://" + host
}
