package mail

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

var _ Mailer = (*Outbox)(nil)

// Outbox is the Mailer of an installation without a mail server: it keeps
// each message in the catalog's outbox (status "stored"), where an operator
// reads it with `condo mail outbox`, and logs that it did, without the
// body.
type Outbox struct {
	Catalog *catalog.Catalog
	Logger  *slog.Logger // nil discards
}

// NewOutbox returns an Outbox on cat.
func NewOutbox(cat *catalog.Catalog, logger *slog.Logger) *Outbox {
	return &Outbox{Catalog: cat, Logger: logger}
}

// Send stores m.
//
// Errors: EINVALID for a bad recipient or header.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	m, err := m.check()
	if err != nil {
		return err
	}
	id := condo.NewID()
	if err := o.Catalog.StoreMail(ctx, catalog.OutboxMessage{
		ID: id, TenantID: m.TenantID, To: m.To, Subject: m.Subject, Body: m.Body, Status: catalog.MailStored,
	}); err != nil {
		return fmt.Errorf("store mail to %s: %w", m.To, err)
	}
	// Never the body: it may carry a secret link.
	logger(o.Logger).Info("mail kept in the outbox (read it with condo mail outbox)",
		"outbox_id", id, "tenant", m.TenantID, "to", m.To, "subject", m.Subject)
	return nil
}
