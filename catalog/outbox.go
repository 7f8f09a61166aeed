package catalog

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/condohq/condo"
)

// Statuses of an outbox message.
const (
	MailStored = "stored" // kept for an operator to read (no mail server)
	MailSent   = "sent"   // accepted by the mail server
	MailFailed = "failed" // the mail server could not be reached or refused it
)

// maxMailError bounds the error text kept with a failed message.
const maxMailError = 1000

// OutboxMessage is one message the mailer sent or kept. Its body may carry
// a secret link (an invitation, a password reset): show it to operators
// only, never log it.
type OutboxMessage struct {
	ID        string     `json:"id"`
	TenantID  string     `json:"tenant_id,omitempty"` // "" for the platform
	To        string     `json:"to"`
	Subject   string     `json:"subject"`
	Body      string     `json:"body"`
	Status    string     `json:"status"`          // MailStored, MailSent or MailFailed
	Error     string     `json:"error,omitempty"` // why it failed
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
}

// StoreMail adds m to the outbox. An empty ID is filled with a new one, an
// empty Status with MailStored, a zero CreatedAt with the time now, and a
// sent message's SentAt with CreatedAt. A caller that needs the id (to
// mark the message later) sets ID itself with condo.NewID.
//
// Errors: EINVALID for an unknown status or a message without recipient;
// ECONFLICT when the id is taken.
func (c *Catalog) StoreMail(ctx context.Context, m OutboxMessage) error {
	if m.ID == "" {
		m.ID = condo.NewID()
	}
	if m.Status == "" {
		m.Status = MailStored
	}
	if !validMailStatus(m.Status) {
		return condo.Errorf(condo.EINVALID, "unknown outbox status %q", condo.Clip(m.Status))
	}
	if strings.TrimSpace(m.To) == "" {
		return condo.Errorf(condo.EINVALID, "an outbox message needs a recipient")
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	if m.Status == MailSent && m.SentAt == nil {
		m.SentAt = &m.CreatedAt
	}
	_, err := c.db.Writer().ExecContext(ctx, `INSERT INTO outbox
		(id, tenant_id, to_addr, subject, body, status, error, created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.TenantID, m.To, m.Subject, m.Body, m.Status, clipMailError(m.Error), condo.UnixMS(m.CreatedAt), condo.NullUnixMS(m.SentAt))
	if c.db.IsUnique(err) {
		return condo.Errorf(condo.ECONFLICT, "outbox message %s exists already", m.ID)
	}
	return err
}

// MarkMail records what became of a stored message: MailSent (sent now,
// errText ignored) or MailFailed with errText, which is kept up to 1000
// bytes. The caller keeps secrets out of errText.
//
// Errors: EINVALID for another status; ENOTFOUND for an unknown id.
func (c *Catalog) MarkMail(ctx context.Context, id, status, errText string) error {
	var res sql.Result
	var err error
	switch status {
	case MailSent:
		res, err = c.db.Writer().ExecContext(ctx, "UPDATE outbox SET status = ?, error = '', sent_at = ? WHERE id = ?",
			MailSent, condo.UnixMS(time.Now()), id)
	case MailFailed:
		res, err = c.db.Writer().ExecContext(ctx, "UPDATE outbox SET status = ?, error = ?, sent_at = NULL WHERE id = ?",
			MailFailed, clipMailError(errText), id)
	default:
		return condo.Errorf(condo.EINVALID, "a message is marked %q or %q, not %q", MailSent, MailFailed, condo.Clip(status))
	}
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return condo.Errorf(condo.ENOTFOUND, "outbox message %s not found", condo.Clip(id))
	}
	return nil
}

// OutboxFilter narrows Outbox.
type OutboxFilter struct {
	TenantID string // one tenant's messages, or all when empty
	To       string // one recipient's messages (compared without case)
	Limit    int    // default 100, at most 1000
}

// Outbox lists messages, newest first.
//
// Errors: EINVALID for a limit above 1000.
func (c *Catalog) Outbox(ctx context.Context, f OutboxFilter) ([]OutboxMessage, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 1000 {
		return nil, condo.Errorf(condo.EINVALID, "limit must be at most 1000")
	}
	q, args := "SELECT id, tenant_id, to_addr, subject, body, status, error, created_at, sent_at FROM outbox WHERE 1=1", []any{}
	if f.TenantID != "" {
		q, args = q+" AND tenant_id = ?", append(args, f.TenantID)
	}
	if to := strings.TrimSpace(f.To); to != "" {
		q, args = q+" AND lower(to_addr) = lower(?)", append(args, to)
	}
	// Ids are time-ordered too, which settles messages of one millisecond.
	rows, err := c.db.Reader().QueryContext(ctx, q+" ORDER BY created_at DESC, id DESC LIMIT ?", append(args, f.Limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []OutboxMessage{}
	for rows.Next() {
		var m OutboxMessage
		var created int64
		var sent *int64
		if err := rows.Scan(&m.ID, &m.TenantID, &m.To, &m.Subject, &m.Body, &m.Status, &m.Error, &created, &sent); err != nil {
			return nil, err
		}
		m.CreatedAt, m.SentAt = condo.FromUnixMS(created), condo.FromNullUnixMS(sent)
		out = append(out, m)
	}
	return out, rows.Err()
}

func validMailStatus(s string) bool { return s == MailStored || s == MailSent || s == MailFailed }

func clipMailError(s string) string {
	if len(s) <= maxMailError {
		return s
	}
	return strings.ToValidUTF8(s[:maxMailError], "") // drops a character cut in half
}
