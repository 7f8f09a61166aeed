package mail_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/mail"
)

const (
	secretToken = "tok-7f3a9c-SECRET"
	password    = "hunter2-p@ss:word"
)

// received is one message a test server accepted.
type received struct {
	from, to, user string
	tls            bool
	data           string
}

// testServer is a real SMTP server (go-smtp) on 127.0.0.1.
type testServer struct {
	srv  *smtp.Server
	addr string
	// user and pass, when set, are required (AUTH PLAIN) before MAIL.
	user, pass string
	// rcptErr, when set, refuses every recipient.
	rcptErr error

	mu   sync.Mutex // guards mail
	mail []received
}

type serverOptions struct {
	user, pass  string
	rcptErr     error
	tls         *tls.Config // offered with STARTTLS, or from the first byte with implicit
	implicitTLS bool
}

func startSMTP(tb testing.TB, o serverOptions) *testServer {
	tb.Helper()
	ts := &testServer{user: o.user, pass: o.pass, rcptErr: o.rcptErr}
	ts.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{ts: ts, tls: isTLS}, nil
	}))
	ts.srv.Domain = "localhost"
	ts.srv.AllowInsecureAuth = true // net/smtp itself sends PLAIN in the clear only to localhost
	ts.srv.ReadTimeout, ts.srv.WriteTimeout = 10*time.Second, 10*time.Second
	ts.srv.ErrorLog = log.New(io.Discard, "", 0)
	ts.srv.TLSConfig = o.tls
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	if o.implicitTLS {
		ln = tls.NewListener(ln, o.tls)
	}
	go ts.srv.Serve(ln) // ends at Close
	tb.Cleanup(func() { ts.srv.Close() })
	return ts
}

func (ts *testServer) received() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.mail...)
}

// session is one client connection; it offers AUTH PLAIN when the server
// has credentials.
type session struct {
	ts   *testServer
	tls  bool
	user string
	cur  received
}

func (s *session) AuthMechanisms() []string {
	if s.ts.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.ts.user || pass != s.ts.pass {
			// A careless server echoes what it was given.
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials " + user + ":" + pass}
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.ts.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = received{from: from, user: s.user, tls: s.tls}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.ts.rcptErr != nil {
		return s.ts.rcptErr
	}
	s.cur.to = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = string(b)
	s.ts.mu.Lock()
	s.ts.mail = append(s.ts.mail, s.cur)
	s.ts.mu.Unlock()
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func mustCatalog(tb testing.TB) *catalog.Catalog {
	tb.Helper()
	c, err := catalog.Open(context.Background(), tb.TempDir(), catalog.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func mustOutbox(tb testing.TB, c *catalog.Catalog) []catalog.OutboxMessage {
	tb.Helper()
	got, err := c.Outbox(context.Background(), catalog.OutboxFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

// mustSMTP configures an SMTP mailer on rawURL that logs into buf.
func mustSMTP(tb testing.TB, rawURL string, cat *catalog.Catalog, buf *bytes.Buffer) *mail.SMTP {
	tb.Helper()
	m, err := mail.New(rawURL, "condo@localhost", cat, slog.New(slog.NewTextHandler(buf, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	s, ok := m.(*mail.SMTP)
	if !ok {
		tb.Fatalf("New(%q) = %T, want *mail.SMTP", rawURL, m)
	}
	return s
}

var invitation = mail.Message{
	TenantID: "acme",
	To:       "Ann@Example.com",
	Subject:  "Invitation à Acme",
	Body:     "Join us: https://acme.localhost/invite?token=" + secretToken + "\n.\nA line starting with a dot, and a long one: " + strings.Repeat("x", 1200) + "\n",
}

// checkDelivered decodes what the server received and compares it with
// the invitation.
func checkDelivered(t *testing.T, r received) {
	t.Helper()
	if r.from != "noreply@example.com" || r.to != "ann@example.com" {
		t.Errorf("envelope %s -> %s", r.from, r.to)
	}
	msg, err := netmail.ReadMessage(strings.NewReader(r.data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, r.data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != invitation.Subject {
		t.Errorf("Subject = %q (%v), want %q", subject, err, invitation.Subject)
	}
	if got := msg.Header.Get("To"); got != "ann@example.com" {
		t.Errorf("To = %q", got)
	}
	if from, err := msg.Header.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "noreply@example.com" || from[0].Name != "Condo" {
		t.Errorf("From = %q (%v)", msg.Header.Get("From"), err)
	}
	if msg.Header.Get("Message-Id") == "" || msg.Header.Get("Date") == "" {
		t.Errorf("no Message-ID or Date: %v", msg.Header)
	}
	if got := msg.Header.Get("Content-Transfer-Encoding"); got != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding = %q", got)
	}
	for _, line := range strings.Split(r.data, "\r\n") {
		if len(line) > 998 {
			t.Errorf("a line of %d bytes was sent", len(line))
		}
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.ReplaceAll(string(body), "\r\n", "\n"), invitation.Body; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}

func TestSMTP_Send(t *testing.T) {
	ctx := context.Background()
	cert, roots := mustCert(t)
	tlsServer := &tls.Config{Certificates: []tls.Certificate{cert}}
	tests := []struct {
		name     string
		server   serverOptions
		url      string // %s is the server's address
		wantUser string
		wantTLS  bool
	}{
		{"Plain", serverOptions{}, "smtp://%s", "", false},
		{"AuthPlain", serverOptions{user: "mailer", pass: password}, "smtp://mailer:hunter2-p%%40ss%%3Aword@%s", "mailer", false},
		{"StartTLS", serverOptions{user: "mailer", pass: password, tls: tlsServer}, "smtp://mailer:hunter2-p%%40ss%%3Aword@%s", "mailer", true},
		{"ImplicitTLS", serverOptions{user: "mailer", pass: password, tls: tlsServer, implicitTLS: true}, "smtps://mailer:hunter2-p%%40ss%%3Aword@%s", "mailer", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startSMTP(t, tt.server)
			cat := mustCatalog(t)
			var logs bytes.Buffer
			s := mustSMTP(t, fmt.Sprintf(tt.url, ts.addr)+"?from=Condo+%3Cnoreply@example.com%3E", cat, &logs)
			if tt.server.tls != nil {
				s.TLSConfig = &tls.Config{RootCAs: roots}
			}
			if err := s.Send(ctx, invitation); err != nil {
				t.Fatal(err)
			}
			got := ts.received()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			if got[0].user != tt.wantUser || got[0].tls != tt.wantTLS {
				t.Errorf("user %q tls %v, want %q %v", got[0].user, got[0].tls, tt.wantUser, tt.wantTLS)
			}
			checkDelivered(t, got[0])
			out := mustOutbox(t, cat)
			if len(out) != 1 || out[0].Status != catalog.MailSent || out[0].SentAt == nil || out[0].Error != "" ||
				out[0].To != "ann@example.com" || out[0].TenantID != "acme" || out[0].Body != invitation.Body {
				t.Errorf("outbox = %+v", out)
			}
			if !strings.Contains(got[0].data, out[0].ID) {
				t.Errorf("Message-ID does not carry the outbox id %s", out[0].ID)
			}
			if l := logs.String(); !strings.Contains(l, out[0].ID) || strings.Contains(l, secretToken) || strings.Contains(l, password) {
				t.Errorf("log = %q, want the outbox id and neither body nor password", l)
			}
		})
	}
}

func TestSMTP_Failures(t *testing.T) {
	ctx := context.Background()
	cert, _ := mustCert(t)
	tests := []struct {
		name   string
		server *serverOptions // nil: nothing listens
		url    string         // %s is the address
		want   string         // in the error
	}{
		{"WrongPassword", &serverOptions{user: "mailer", pass: "another password"}, "smtp://mailer:hunter2-p%%40ss%%3Aword@%s", "535"},
		{"RecipientRefused", &serverOptions{user: "mailer", pass: password, rcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}},
			"smtp://mailer:hunter2-p%%40ss%%3Aword@%s", "no such user"},
		{"NoAuthOffered", &serverOptions{}, "smtp://mailer:hunter2-p%%40ss%%3Aword@%s", "no AUTH"},
		// The certificate is not trusted: the mailer fails rather than
		// carry on in the clear.
		{"StartTLSUntrusted", &serverOptions{tls: &tls.Config{Certificates: []tls.Certificate{cert}}}, "smtp://%s", "starttls"},
		{"NothingListening", nil, "smtp://mailer:hunter2-p%%40ss%%3Aword@%s", "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := closedAddr(t)
			var ts *testServer
			if tt.server != nil {
				ts = startSMTP(t, *tt.server)
				addr = ts.addr
			}
			cat := mustCatalog(t)
			var logs bytes.Buffer
			s := mustSMTP(t, fmt.Sprintf(tt.url, addr), cat, &logs)
			err := s.Send(ctx, invitation)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error carries the password: %q", err)
			}
			out := mustOutbox(t, cat)
			if len(out) != 1 || out[0].Status != catalog.MailFailed || out[0].SentAt != nil || out[0].Error != err.Error() {
				t.Fatalf("outbox = %+v, want one failed message with the error", out)
			}
			if ts != nil && len(ts.received()) != 0 {
				t.Errorf("the server received a message")
			}
			if strings.Contains(logs.String(), "hunter2") || strings.Contains(logs.String(), secretToken) {
				t.Errorf("log = %q", logs.String())
			}
		})
	}

	t.Run("Timeout", func(t *testing.T) {
		// A server that accepts and never greets.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		cat := mustCatalog(t)
		s := mustSMTP(t, "smtp://"+ln.Addr().String(), cat, &bytes.Buffer{})
		s.Timeout = 100 * time.Millisecond
		if err := s.Send(ctx, invitation); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Send = %v, want a deadline error", err)
		}
		if out := mustOutbox(t, cat); len(out) != 1 || out[0].Status != catalog.MailFailed {
			t.Errorf("outbox = %+v", out)
		}
	})
}

func TestSend_HeaderInjection(t *testing.T) {
	ctx := context.Background()
	ts := startSMTP(t, serverOptions{})
	cat := mustCatalog(t)
	var logs bytes.Buffer
	mailers := map[string]mail.Mailer{
		"SMTP":   mustSMTP(t, "smtp://"+ts.addr, cat, &logs),
		"Outbox": mail.NewOutbox(cat, slog.New(slog.NewTextHandler(&logs, nil))),
	}
	bad := []mail.Message{
		{To: "ann@example.com", Subject: "Hi\r\nBcc: eve@example.com", Body: "x"},
		{To: "ann@example.com", Subject: "Hi\nBcc: eve@example.com", Body: "x"},
		{To: "ann@example.com\r\nBcc: eve@example.com", Subject: "Hi", Body: "x"},
		{To: "ann@example.com, eve@example.com", Subject: "Hi", Body: "x"},
		{To: "Ann <ann@example.com>", Subject: "Hi", Body: "x"},
		{To: "not an address", Subject: "Hi", Body: "x"},
		{To: "", Subject: "Hi", Body: "x"},
		{To: "ann@example.com", Subject: strings.Repeat("s", mail.MaxSubject+1), Body: "x"},
		{TenantID: "acme\r\nX: y", To: "ann@example.com", Subject: "Hi", Body: "x"},
	}
	for name, m := range mailers {
		for i, msg := range bad {
			if err := m.Send(ctx, msg); condo.ErrorCode(err) != condo.EINVALID {
				t.Errorf("%s message %d: %v, want EINVALID", name, i, err)
			}
		}
	}
	if got := ts.received(); len(got) != 0 {
		t.Errorf("server received %d messages", len(got))
	}
	if out := mustOutbox(t, cat); len(out) != 0 {
		t.Errorf("outbox = %+v, want nothing", out)
	}
}

func TestOutbox_Send(t *testing.T) {
	ctx := context.Background()
	cat := mustCatalog(t)
	var logs bytes.Buffer
	m, err := mail.New("", "condo@localhost", cat, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(*mail.Outbox); !ok {
		t.Fatalf("New without a URL = %T, want *mail.Outbox", m)
	}
	if err := m.Send(ctx, invitation); err != nil {
		t.Fatal(err)
	}
	out := mustOutbox(t, cat)
	if len(out) != 1 {
		t.Fatalf("outbox has %d messages", len(out))
	}
	got := out[0]
	if got.Status != catalog.MailStored || got.Body != invitation.Body || got.To != "ann@example.com" ||
		got.TenantID != "acme" || got.Subject != invitation.Subject || got.SentAt != nil {
		t.Errorf("stored = %+v", got)
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("log has %d lines, want 1: %s", len(lines), logs.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"level": "INFO", "outbox_id": got.ID, "tenant": "acme", "to": "ann@example.com", "subject": invitation.Subject} {
		if rec[k] != want {
			t.Errorf("log %s = %v, want %q", k, rec[k], want)
		}
	}
	if strings.Contains(logs.String(), secretToken) || strings.Contains(logs.String(), "invite?") {
		t.Errorf("the body reached the log: %s", logs.String())
	}
}

func TestNew(t *testing.T) {
	cat := mustCatalog(t)
	t.Run("URL", func(t *testing.T) {
		for _, tc := range []struct {
			url, from  string
			addr       string
			implicit   bool
			user, pass string
			wantFrom   string
		}{
			{"smtp://mail.example.com", "condo@localhost", "mail.example.com:587", false, "", "", "condo@localhost"},
			{"smtps://u:p%2Fw@mail.example.com", "condo@localhost", "mail.example.com:465", true, "u", "p/w", "condo@localhost"},
			{"smtp://u@[::1]:2525/?from=a@example.com", "condo@localhost", "[::1]:2525", false, "u", "", "a@example.com"},
		} {
			m, err := mail.New(tc.url, tc.from, cat, nil)
			if err != nil {
				t.Errorf("%s: %v", tc.url, err)
				continue
			}
			s := m.(*mail.SMTP)
			if s.Addr != tc.addr || s.ImplicitTLS != tc.implicit || s.Username != tc.user || s.Password != tc.pass || s.From != tc.wantFrom {
				t.Errorf("%s: %+v", tc.url, s)
			}
		}
	})
	t.Run("Bad", func(t *testing.T) {
		for _, tc := range []struct{ name, url, from, reason string }{
			{"Scheme", "http://u:hunter2@mail.example.com", "condo@localhost", "invalid_smtp_url"},
			{"NotAURL", "smtp://u:hunter2@mail example.com:25", "condo@localhost", "invalid_smtp_url"},
			{"BadEscape", "smtp://u:hunter2%zz@mail.example.com", "condo@localhost", "invalid_smtp_url"},
			{"Port", "smtp://u:hunter2@mail.example.com:99999", "condo@localhost", "invalid_smtp_url"},
			{"NoHost", "smtp://u:hunter2@:25", "condo@localhost", "invalid_smtp_url"},
			{"Path", "smtp://u:hunter2@mail.example.com/x", "condo@localhost", "invalid_smtp_url"},
			{"UnknownParam", "smtp://u:hunter2@mail.example.com?form=a@example.com", "condo@localhost", "invalid_smtp_url"},
			{"PasswordNoUser", "smtp://:hunter2@mail.example.com", "condo@localhost", "invalid_smtp_url"},
			{"BadFrom", "smtp://u:hunter2@mail.example.com", "not an address", "invalid_mail_from"},
			{"BadURLFrom", "smtp://u:hunter2@mail.example.com?from=x%0D%0ABcc:y", "condo@localhost", "invalid_mail_from"},
			{"NoFrom", "smtp://u:hunter2@mail.example.com", "", "invalid_mail_from"},
			{"OutboxBadFrom", "", "not an address", "invalid_mail_from"},
		} {
			m, err := mail.New(tc.url, tc.from, cat, nil)
			if m != nil || condo.ErrorReason(err) != tc.reason {
				t.Errorf("%s: %v %v, want %s", tc.name, m, err, tc.reason)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%s: error carries the password: %q", tc.name, err)
			}
		}
	})
}

// mustCert returns a self-signed certificate for 127.0.0.1 and a pool
// that trusts it.
func mustCert(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "condo test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// closedAddr returns an address on which nothing listens.
func closedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
