package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/mail"
)

func TestMail_Outbox(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	mustCatalog(t, data)
	if code, out, errOut := run(t, "", "mail", "outbox", "--data", data); code != 0 || !strings.Contains(out, "the outbox is empty") {
		t.Fatalf("empty outbox: %d %q %s", code, out, errOut)
	}

	cat, err := catalog.Open(ctx, data, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	m, err := newMailer(Config{MailFrom: "condo@localhost"}, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	sent := []mail.Message{ // oldest first
		{TenantID: "acme", To: "ann@example.com", Subject: "Invitation to Acme", Body: "Join: https://acme.localhost/invite?token=tok-ann\n"},
		{TenantID: "beta", To: "bob@example.com", Subject: "Reset your password", Body: "Reset: https://beta.localhost/reset?token=tok-bob\x1b[2J"},
		{To: "ops@example.com", Subject: "Platform notice", Body: "platform body"},
	}
	for _, msg := range sent {
		if err := m.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("Human", func(t *testing.T) {
		code, out, errOut := run(t, "", "mail", "outbox", "--data", data)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		// Bodies are shown: reading them is how links are delivered.
		for _, want := range []string{"token=tok-ann", "token=tok-bob", "platform body", "subject:  Invitation to Acme", "to:       bob@example.com", "tenant:   (platform)", "3 messages"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Index(out, "Platform notice") > strings.Index(out, "Invitation to Acme") {
			t.Errorf("not newest first:\n%s", out)
		}
		if strings.Contains(out, "\x1b") {
			t.Errorf("an escape sequence reached the terminal")
		}
	})
	t.Run("JSON", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want []string // recipients, newest first
		}{
			{"All", nil, []string{"ops@example.com", "bob@example.com", "ann@example.com"}},
			{"Tenant", []string{"--tenant", "acme"}, []string{"ann@example.com"}},
			{"To", []string{"--to", "BOB@example.com"}, []string{"bob@example.com"}},
			{"Limit", []string{"--limit", "2"}, []string{"ops@example.com", "bob@example.com"}},
			{"UnknownTenant", []string{"--tenant", "nobody"}, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				args := append([]string{"mail", "outbox", "--data", data, "--json"}, tc.args...)
				code, out, errOut := run(t, "", args...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				var got struct {
					Messages []catalog.OutboxMessage `json:"messages"`
				}
				if err := json.Unmarshal([]byte(out), &got); err != nil || got.Messages == nil {
					t.Fatalf("--json output %q: %v", out, err)
				}
				to := []string{}
				for _, msg := range got.Messages {
					to = append(to, msg.To)
					if msg.Status != catalog.MailStored || msg.Body == "" || msg.ID == "" {
						t.Errorf("message = %+v", msg)
					}
				}
				if strings.Join(to, ",") != strings.Join(tc.want, ",") {
					t.Errorf("recipients = %v, want %v", to, tc.want)
				}
			})
		}
	})
	t.Run("Bad", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			args     []string
			wantCode int
		}{
			{"LimitZero", []string{"--limit", "0"}, 2},
			{"LimitTooLarge", []string{"--limit", "1001"}, 2},
			{"LimitNotANumber", []string{"--limit", "ten"}, 2},
			{"ExtraArg", []string{"acme"}, 2},
			{"BadTenant", []string{"--tenant", "../acme"}, 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, _, errOut := run(t, "", append([]string{"mail", "outbox", "--data", data}, tc.args...)...)
				if code != tc.wantCode {
					t.Errorf("exit = %d, want %d (%s)", code, tc.wantCode, errOut)
				}
				if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "condo: ") {
					t.Errorf("stderr = %q, want one line", errOut)
				}
			})
		}
	})
}

func TestMail_NewMailer(t *testing.T) {
	cat, err := catalog.Open(context.Background(), t.TempDir(), catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	if m, err := newMailer(Config{MailFrom: "condo@localhost"}, cat, nil); err != nil {
		t.Errorf("no SMTP URL: %v", err)
	} else if _, ok := m.(*mail.Outbox); !ok {
		t.Errorf("no SMTP URL: %T, want *mail.Outbox", m)
	}
	if m, err := newMailer(Config{SMTPURL: "smtps://u:hunter2@mail.example.com", MailFrom: "Condo <noreply@example.com>"}, cat, nil); err != nil {
		t.Errorf("SMTP URL: %v", err)
	} else if s, ok := m.(*mail.SMTP); !ok || s.Addr != "mail.example.com:465" || !s.ImplicitTLS || s.From != "Condo <noreply@example.com>" {
		t.Errorf("SMTP URL: %+v", m)
	}
	if _, err := newMailer(Config{SMTPURL: "smtp://u:hunter2@mail.example.com:0x19", MailFrom: "condo@localhost"}, cat, nil); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad SMTP URL: %v, want an error without the password", err)
	}
}

func TestMail_Settings(t *testing.T) {
	t.Setenv("CONDO_SMTP_URL", "smtp://mailer:hunter2@mail.example.com:587")
	t.Setenv("CONDO_MAIL_FROM", "noreply@example.com")
	var cfg Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := cfg.register(fs); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if cfg.SMTPURL != "smtp://mailer:hunter2@mail.example.com:587" || cfg.MailFrom != "noreply@example.com" {
		t.Errorf("from the environment: smtp-url %q, mail-from %q", cfg.SMTPURL, cfg.MailFrom)
	}
	if err := fs.Parse([]string{"--smtp-url", "smtps://other.example.com"}); err != nil || cfg.SMTPURL != "smtps://other.example.com" {
		t.Errorf("the flag did not win: %q (%v)", cfg.SMTPURL, err)
	}

	// --help shows the default from the environment without its password.
	code, help, _ := run(t, "", "serve", "--help")
	if code != 0 || !strings.Contains(help, "smtp-url") || !strings.Contains(help, "mailer:xxxxx@mail.example.com") {
		t.Errorf("serve --help: %d %s", code, help)
	}
	if strings.Contains(help, "hunter2") {
		t.Errorf("serve --help shows the SMTP password")
	}
}
