package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// ParseFlags fills m.Config from the flags and the environment; Run then
// serves with it, on :0, until its context ends. A test may change the
// config in between, as here the data directory.
func TestMain_ParseFlagsRun(t *testing.T) {
	const jwt = "jwt-secret-0123456789abcdef0123456789"
	t.Setenv("CONDO_JWT_SECRET", jwt)
	t.Setenv("CONDO_ADMIN_PASSWORD", "an admin password from the env")
	t.Setenv("CONDO_POOL_SIZE", "7")
	var out, errOut bytes.Buffer
	ready := make(chan string, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Ready: func(addr string) { ready <- addr }}
	if err := m.ParseFlags(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"Addr", m.Config.Addr, "127.0.0.1:0"},
		{"LogLevel", m.Config.LogLevel, "warn"},
		{"PoolSize", m.Config.PoolSize, 7},
		{"Data", m.Config.Data, "./data"},
		{"JWTSecret", string(m.Config.JWTSecret), jwt},
		{"AdminPassword", string(m.Config.AdminPassword), "an admin password from the env"},
		{"AdminEmail", m.Config.AdminEmail, "admin@localhost"},
	} {
		if c.got != c.want {
			t.Errorf("Config.%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	m.Config.Data = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v %s", err, errOut.String())
	}
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("healthz: %d", res.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second): // only in case it never returns
		t.Fatal("Run did not return after its context ended")
	}
	if strings.Contains(out.String()+errOut.String(), jwt) {
		t.Error("the JWT secret was printed")
	}
}

func TestMain_RunBeforeParseFlags(t *testing.T) {
	if err := (&Main{}).Run(context.Background()); err == nil {
		t.Error("Run without ParseFlags succeeded")
	}
}

// Secrets come from the environment only and no way of printing the
// config shows them: not help, not fmt, not slog.
func TestConfig_SecretsNeverPrinted(t *testing.T) {
	secrets := map[string]string{
		"CONDO_JWT_SECRET":     "jwt-secret-0123456789abcdef0123456789",
		"CONDO_ADMIN_PASSWORD": "admin-password-from-the-env",
		"CONDO_PASSWORD":       "user-password-from-the-env",
		"CONDO_SMTP_URL":       "smtp://mailer:smtp-password-in-url@mail.example.com:587",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	var m Main
	var help bytes.Buffer
	m.Stdout = &help
	if err := m.ParseFlags(context.Background(), []string{"serve", "--help"}); err != errHelpShown {
		t.Fatalf("serve --help: %v", err)
	}
	if err := m.ParseFlags(context.Background(), []string{"serve"}); err != nil {
		t.Fatal(err)
	}
	if got, want := string(m.Config.Password), secrets["CONDO_PASSWORD"]; got != want {
		t.Errorf("Password = %q, want %q", got, want)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "jwt", m.Config.JWTSecret, "password", m.Config.AdminPassword)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "jwt", m.Config.JWTSecret, "password", m.Config.Password)
	printed := map[string]string{
		"help": help.String(),
		"fmt":  fmt.Sprintf("%v %+v %#v %s %s", m.Config, m.Config, m.Config, m.Config.JWTSecret, m.Config.SMTPURL),
		"slog": logged.String(),
	}
	for how, text := range printed {
		for name, v := range secrets {
			if name == "CONDO_SMTP_URL" {
				v = "smtp-password-in-url"
			}
			if strings.Contains(text, v) {
				t.Errorf("%s shows %s", how, name)
			}
		}
	}
	if !strings.Contains(printed["fmt"], "[redacted]") {
		t.Errorf("fmt shows no redacted secret: %s", printed["fmt"])
	}
}
