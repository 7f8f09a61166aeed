// Package mail sends the messages Condo owes its users: invitations and
// password resets. A Mailer delivers one Message; Outbox keeps messages in
// the catalog (so a fresh install works without a mail server) and SMTP
// delivers them through a mail server.
package mail

import "context"

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
	Send(ctx context.Context, m Message) error
}
