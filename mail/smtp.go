package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/smtp"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

var _ Mailer = (*SMTP)(nil)

// Defaults for SMTP.
const (
	DefaultTimeout   = 15 * time.Second
	DefaultSMTPPort  = "587" // submission, with STARTTLS
	DefaultSMTPSPort = "465" // submission over implicit TLS
)

// SMTP delivers messages through a mail server, one connection per
// message, and records each in the catalog's outbox as "sent" or "failed"
// with the error. The record is written before delivery starts, so a
// message whose process died mid-delivery stays "stored" there.
type SMTP struct {
	// Addr is the server's host:port.
	Addr string
	// ImplicitTLS speaks TLS from the first byte (smtps://). Otherwise the
	// connection upgrades with STARTTLS when the server offers it, and
	// fails rather than continue in the clear if the upgrade fails.
	ImplicitTLS bool
	// Username and Password, when Username is set, log in with AUTH PLAIN,
	// which net/smtp sends only over TLS or to localhost.
	Username, Password string
	// From is the sender, with or without a display name.
	From string
	// TLSConfig, when set, replaces the default (the system's roots,
	// TLS 1.2 or later); its ServerName defaults to Addr's host.
	TLSConfig *tls.Config
	// Timeout bounds one delivery: connecting, TLS and the whole dialogue.
	// Zero means DefaultTimeout.
	Timeout time.Duration

	Catalog *catalog.Catalog
	Logger  *slog.Logger // nil discards
}

// NewSMTP configures an SMTP mailer from a URL:
//
//	smtp://user:pass@host:587?from=noreply@example.com   (STARTTLS when offered)
//	smtps://user:pass@host:465                            (implicit TLS)
//
// The port defaults to 587 for smtp and 465 for smtps; user and password
// are optional and percent-encoded. The URL's from, when given, wins over
// the from argument. It does no I/O.
//
// Errors: EINVALID (invalid_smtp_url, invalid_mail_from); their messages
// never carry the password.
func NewSMTP(rawURL, from string, cat *catalog.Catalog, logger *slog.Logger) (*SMTP, error) {
	bad := func(format string, args ...any) error {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_smtp_url",
			"the SMTP URL "+format+" (use smtp://user:pass@host:587?from=noreply@example.com or smtps://...)", args...)
	}
	u, err := url.Parse(rawURL)
	if err != nil { // url's errors quote the whole URL, password included
		return nil, bad("is not a URL")
	}
	s := &SMTP{Catalog: cat, Logger: logger, From: from}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.ImplicitTLS = true
	default:
		return nil, bad("has scheme %q, not smtp or smtps", condo.Clip(u.Scheme))
	}
	host, port := u.Hostname(), u.Port()
	if host == "" || u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return nil, bad("needs a host and nothing after it but ?from=")
	}
	if port == "" {
		port = DefaultSMTPPort
		if s.ImplicitTLS {
			port = DefaultSMTPSPort
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, bad("has port %q", condo.Clip(port))
	}
	s.Addr = net.JoinHostPort(host, port)
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		if s.Username == "" && s.Password != "" {
			return nil, bad("has a password but no user")
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, bad("has a malformed query")
	}
	for k, v := range q {
		switch {
		case k != "from":
			return nil, bad("has an unknown parameter %q", condo.Clip(k))
		case len(v) != 1:
			return nil, bad("gives from more than once")
		}
		s.From = v[0]
	}
	if s.From == "" {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_mail_from", "mail needs a sender: set mail-from or the SMTP URL's ?from=")
	}
	if _, err := parseFrom(s.From); err != nil {
		return nil, err
	}
	return s, nil
}

// Send records m in the outbox and delivers it. A failed delivery is
// recorded with its error and returned; if recording the outcome of a
// successful one fails, that is logged and Send succeeds, since the
// message went out.
//
// Errors: EINVALID for a bad recipient, header or sender; any other error
// is the server's or the network's, and never carries the password.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	m, err := m.check()
	if err != nil {
		return err
	}
	from, err := parseFrom(s.From)
	if err != nil {
		return err
	}
	id := condo.NewID()
	if err := s.Catalog.StoreMail(ctx, catalog.OutboxMessage{
		ID: id, TenantID: m.TenantID, To: m.To, Subject: m.Subject, Body: m.Body, Status: catalog.MailStored,
	}); err != nil {
		return fmt.Errorf("record mail to %s: %w", m.To, err)
	}
	if err := s.redact(s.deliver(ctx, id, from, m)); err != nil {
		err = fmt.Errorf("send mail to %s via %s: %w", m.To, s.Addr, err)
		// Recorded even when ctx has ended.
		if merr := s.Catalog.MarkMail(context.WithoutCancel(ctx), id, catalog.MailFailed, err.Error()); merr != nil {
			return errors.Join(err, fmt.Errorf("record the failure: %w", merr))
		}
		return err
	}
	log := logger(s.Logger).With("outbox_id", id, "tenant", m.TenantID, "to", m.To, "subject", m.Subject)
	if err := s.Catalog.MarkMail(context.WithoutCancel(ctx), id, catalog.MailSent, ""); err != nil {
		log.Warn("mail sent but not marked sent in the outbox", "err", err)
		return nil
	}
	log.Info("mail sent", "server", s.Addr) // never the body
	return nil
}

// deliver runs one SMTP dialogue, bounded by Timeout and ctx.
func (s *SMTP) deliver(ctx context.Context, id string, from *netmail.Address, m Message) (err error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() { // say why an I/O error happened when ctx caused it
		if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("%w: %v", cerr, err)
		} else if errors.Is(err, os.ErrDeadlineExceeded) { // the conn's deadline is ctx's, and may pass first
			err = fmt.Errorf("%w: %v", context.DeadlineExceeded, err)
		}
	}()
	msg, err := s.compose(id, from, m)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	// net/smtp takes no context: the deadline bounds every read and write,
	// and cancelling ctx moves it to the past, which fails a blocked one.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		tlsConfig = s.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = host
	}
	if s.ImplicitTLS {
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if !s.ImplicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
		}
	}
	if s.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the server offers no AUTH, but the SMTP URL has a user")
		}
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return c.Quit()
}

// compose renders m as a MIME message: UTF-8 text, quoted-printable, so
// any body survives 7-bit servers and line-length limits.
func (s *SMTP) compose(id string, from *netmail.Address, m Message) ([]byte, error) {
	domain := "localhost"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 {
		domain = from.Address[at+1:]
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", m.To)
	header("Subject", mime.BEncoding.Encode("utf-8", m.Subject))
	header("Date", time.Now().Format(time.RFC1123Z))
	header("Message-ID", "<"+id+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(m.Body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// redact removes the password, and the AUTH PLAIN payload that encodes
// it, from err's text: a server may echo what it was sent. Errors without
// it pass through unchanged, keeping their codes.
func (s *SMTP) redact(err error) error {
	if err == nil || s.Password == "" {
		return err
	}
	msg := err.Error()
	secrets := []string{
		s.Password,
		url.QueryEscape(s.Password), url.PathEscape(s.Password),
		base64.StdEncoding.EncodeToString([]byte("\x00" + s.Username + "\x00" + s.Password)),
	}
	redacted := msg
	for _, secret := range secrets {
		if secret != "" {
			redacted = strings.ReplaceAll(redacted, secret, "xxxxx")
		}
	}
	if redacted == msg {
		return err
	}
	return errors.New(redacted) // not wrapped: the cause still holds the secret
}
