package catalog_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

func TestCatalog_Outbox(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := mustOpen(t, dir, catalog.Config{})
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	msgs := []catalog.OutboxMessage{
		{TenantID: "acme", To: "ann@example.com", Subject: "Invitation", Body: "https://acme.localhost/invite?token=s3cret"},
		{TenantID: "acme", To: "bob@example.com", Subject: "Reset", Body: "reset link"},
		{TenantID: "beta", To: "ann@example.com", Subject: "Welcome", Body: "hello"},
		{To: "ops@example.com", Subject: "Platform", Body: "platform mail", Status: catalog.MailSent},
	}
	for i, m := range msgs {
		m.CreatedAt = base.Add(time.Duration(i) * time.Minute)
		if err := c.StoreMail(ctx, m); err != nil {
			t.Fatalf("StoreMail %d: %v", i, err)
		}
	}

	t.Run("NewestFirst", func(t *testing.T) {
		got, err := c.Outbox(ctx, catalog.OutboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 {
			t.Fatalf("got %d messages, want 4", len(got))
		}
		for i, want := range []string{"Platform", "Welcome", "Reset", "Invitation"} {
			if got[i].Subject != want {
				t.Errorf("message %d = %q, want %q", i, got[i].Subject, want)
			}
		}
		inv := got[3]
		if inv.ID == "" || inv.Status != catalog.MailStored || inv.SentAt != nil || inv.Error != "" ||
			inv.Body != msgs[0].Body || inv.TenantID != "acme" || inv.To != "ann@example.com" || !inv.CreatedAt.Equal(base) {
			t.Errorf("stored message = %+v", inv)
		}
		if p := got[0]; p.Status != catalog.MailSent || p.SentAt == nil || p.TenantID != "" {
			t.Errorf("platform message = %+v, want sent with a time", p)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			f    catalog.OutboxFilter
			want []string
		}{
			{"Tenant", catalog.OutboxFilter{TenantID: "acme"}, []string{"Reset", "Invitation"}},
			{"To", catalog.OutboxFilter{To: " ANN@example.com"}, []string{"Welcome", "Invitation"}},
			{"TenantAndTo", catalog.OutboxFilter{TenantID: "acme", To: "ann@example.com"}, []string{"Invitation"}},
			{"Limit", catalog.OutboxFilter{Limit: 2}, []string{"Platform", "Welcome"}},
			{"Nobody", catalog.OutboxFilter{TenantID: "nobody"}, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := c.Outbox(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				subjects := []string{}
				for _, m := range got {
					subjects = append(subjects, m.Subject)
				}
				if strings.Join(subjects, ",") != strings.Join(tc.want, ",") {
					t.Errorf("subjects = %v, want %v", subjects, tc.want)
				}
			})
		}
		if _, err := c.Outbox(ctx, catalog.OutboxFilter{Limit: 1001}); condo.ErrorCode(err) != condo.EINVALID {
			t.Errorf("limit 1001: %v, want EINVALID", err)
		}
	})
	t.Run("Mark", func(t *testing.T) {
		id := condo.NewID()
		if err := c.StoreMail(ctx, catalog.OutboxMessage{ID: id, To: "cid@example.com", Subject: "s", Body: "b"}); err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("é", 800) // 1600 bytes
		if err := c.MarkMail(ctx, id, catalog.MailFailed, long); err != nil {
			t.Fatal(err)
		}
		got := mustOneMail(t, c, "cid@example.com")
		if got.ID != id || got.Status != catalog.MailFailed || got.SentAt != nil || len(got.Error) > 1000 || !strings.HasPrefix(long, got.Error) || got.Error == "" {
			t.Errorf("after failure: %+v", got)
		}
		if err := c.MarkMail(ctx, id, catalog.MailSent, "ignored"); err != nil {
			t.Fatal(err)
		}
		if got := mustOneMail(t, c, "cid@example.com"); got.Status != catalog.MailSent || got.Error != "" || got.SentAt == nil {
			t.Errorf("after sending: %+v", got)
		}
		if err := c.MarkMail(ctx, "nope", catalog.MailSent, ""); condo.ErrorCode(err) != condo.ENOTFOUND {
			t.Errorf("unknown id: %v, want ENOTFOUND", err)
		}
		if err := c.MarkMail(ctx, id, catalog.MailStored, ""); condo.ErrorCode(err) != condo.EINVALID {
			t.Errorf("mark stored: %v, want EINVALID", err)
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			m    catalog.OutboxMessage
			code string
		}{
			{"Status", catalog.OutboxMessage{To: "a@example.com", Status: "queued"}, condo.EINVALID},
			{"NoRecipient", catalog.OutboxMessage{To: " "}, condo.EINVALID},
			{"DuplicateID", catalog.OutboxMessage{ID: mustOneMail(t, c, "cid@example.com").ID, To: "a@example.com"}, condo.ECONFLICT},
		} {
			if err := c.StoreMail(ctx, tc.m); condo.ErrorCode(err) != tc.code {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			}
		}
	})
	t.Run("SurvivesReopen", func(t *testing.T) {
		c2 := mustOpen(t, dir, catalog.Config{})
		got, err := c2.Outbox(ctx, catalog.OutboxFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Errorf("another process sees %d messages, want 5", len(got))
		}
	})
}

func mustOneMail(tb testing.TB, c *catalog.Catalog, to string) catalog.OutboxMessage {
	tb.Helper()
	got, err := c.Outbox(context.Background(), catalog.OutboxFilter{To: to})
	if err != nil {
		tb.Fatal(err)
	}
	if len(got) != 1 {
		tb.Fatalf("messages to %s: %d, want 1", to, len(got))
	}
	return got[0]
}
