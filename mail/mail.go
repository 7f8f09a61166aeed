// Package mail sends the messages Condo owes its users: invitations and
// password resets. A Mailer delivers one Message; Outbox keeps messages in
// the catalog (so a fresh install works without a mail server) and SMTP
// delivers them through a mail server.
package mail

import (
	"context"
	"errors"
	"log/slog"
	netmail "net/mail"
	"strings"
	"unicode/utf8"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// Message is one plain-text email. TenantID names the tenant it is sent
// for ("" for the platform); Body may carry a secret link, so it is never
// logged.
type Message struct {
	TenantID string
	To       string
	Subject  string
	Body     string
}

// Mailer delivers messages.
type Mailer interface {
	// Send delivers m, or keeps it for delivery. Errors: EINVALID for a
	// bad recipient or a header with a line break (header injection); any
	// other error is a failed delivery or store.
	Send(ctx context.Context, m Message) error
}

// MaxSubject bounds a subject, so its encoded header stays one line.
const MaxSubject = 255

// New returns the Mailer for an installation's settings: Outbox when
// smtpURL is empty, else SMTP (see NewSMTP for the URL and from). Both
// record every message in cat's outbox.
//
// Errors: EINVALID for a bad URL or sender.
func New(smtpURL, from string, cat *catalog.Catalog, logger *slog.Logger) (Mailer, error) {
	if cat == nil {
		return nil, errors.New("mail: a catalog is required")
	}
	if smtpURL == "" {
		// The sender is unused here, but a mistake in it shows at once
		// rather than when a mail server is configured.
		if from != "" {
			if _, err := parseFrom(from); err != nil {
				return nil, err
			}
		}
		return NewOutbox(cat, logger), nil
	}
	s, err := NewSMTP(smtpURL, from, cat, logger)
	if err != nil {
		return nil, err // not s: a nil *SMTP would be a non-nil Mailer
	}
	return s, nil
}

// check validates m and returns it with its recipient normalised. Headers
// carry no line breaks or other control characters: a CR or LF in a
// subject or address would let its author add headers (Bcc, say) to the
// message.
func (m Message) check() (Message, error) {
	if hasControl(m.To) || hasControl(m.Subject) || hasControl(m.TenantID) {
		return m, condo.ReasonErrorf(condo.EINVALID, "invalid_header", "a mail header may not contain line breaks or control characters")
	}
	to, err := catalog.NormalizeEmail(m.To)
	if err != nil {
		return m, err
	}
	m.To = to
	if len(m.Subject) > MaxSubject || !utf8.ValidString(m.Subject) {
		return m, condo.ReasonErrorf(condo.EINVALID, "invalid_header", "a mail subject is valid UTF-8 of at most %d bytes", MaxSubject)
	}
	if !utf8.ValidString(m.Body) {
		return m, condo.Errorf(condo.EINVALID, "a mail body must be valid UTF-8")
	}
	return m, nil
}

// parseFrom parses a sender: an address, with or without a display name
// ("Condo <noreply@example.com>").
func parseFrom(from string) (*netmail.Address, error) {
	a, err := netmail.ParseAddress(from)
	if err != nil || hasControl(from) {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_mail_from",
			"invalid sender %q: use an address such as noreply@example.com or Condo <noreply@example.com>", condo.Clip(from))
	}
	return a, nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// logger returns l, or a logger that discards when l is nil.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
