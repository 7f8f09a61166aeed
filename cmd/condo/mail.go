package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/mail"
)

// newMailer returns the server's mailer: SMTP with --smtp-url, else the
// catalog outbox.
func newMailer(cfg Config, cat *catalog.Catalog, logger *slog.Logger) (mail.Mailer, error) {
	return mail.New(string(cfg.SMTPURL), cfg.MailFrom, cat, logger)
}

// mailOutbox lists the outbox with bodies: without a mail server, an
// operator reading it is how invitation and reset links reach people.
func (m *Main) mailOutbox(ctx context.Context, args []string) error {
	c := m.newCommand("mail outbox")
	var f catalog.OutboxFilter
	c.fs.StringVar(&f.TenantID, "tenant", "", "only this tenant's messages")
	c.fs.StringVar(&f.To, "to", "", "only messages to this address")
	c.fs.IntVar(&f.Limit, "limit", 20, "at most this many, newest first (up to 1000)")
	if _, err := c.parse(args, 0, 0, "mail outbox [--tenant ID] [--to EMAIL] [--limit N]"); err != nil {
		return err
	}
	if f.Limit < 1 || f.Limit > 1000 {
		return usagef("--limit must be from 1 to 1000")
	}
	if f.TenantID != "" {
		if err := condo.ValidateTenantID(f.TenantID); err != nil {
			return err
		}
	}
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		msgs, err := cat.Outbox(ctx, f)
		if err != nil {
			return err
		}
		return c.print(map[string]any{"messages": msgs}, describeOutbox(msgs))
	})
}

func describeOutbox(msgs []catalog.OutboxMessage) string {
	var b strings.Builder
	for _, msg := range msgs {
		tenant := msg.TenantID
		if tenant == "" {
			tenant = "(platform)"
		}
		fmt.Fprintf(&b, "id:       %s\ndate:     %s\ntenant:   %s\nto:       %s\nsubject:  %s\nstatus:   %s\n",
			msg.ID, msg.CreatedAt.Local().Format("2006-01-02 15:04:05 MST"), tenant, printable(msg.To), printable(msg.Subject), msg.Status)
		if msg.Error != "" {
			fmt.Fprintf(&b, "error:    %s\n", printable(msg.Error))
		}
		fmt.Fprintf(&b, "\n%s\n\n", printable(strings.TrimRight(msg.Body, "\n")))
	}
	switch len(msgs) {
	case 0:
		b.WriteString("the outbox is empty")
	case 1:
		b.WriteString("1 message")
	default:
		fmt.Fprintf(&b, "%d messages, newest first", len(msgs))
	}
	return b.String()
}

// printable replaces control characters other than newline and tab, so a
// message cannot send escape sequences to the operator's terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}
