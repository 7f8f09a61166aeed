package webhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// errNotAllowed is a dial refused by the SSRF guard.
var errNotAllowed = errors.New("address not allowed: webhooks go to public addresses only (--webhooks-allow-private)")

// NewClient returns the HTTP client deliveries use: each request bounded
// by timeout, no proxy from the environment, redirects not followed (a
// 3xx is a failed attempt), and, unless allowPrivate, every connection
// refused whose resolved address is not public. The check runs on the
// address actually dialled (net.Dialer.Control), after DNS resolution, so
// a name that resolves to a public address when checked and a private one
// when used (DNS rebinding) is still refused.
func NewClient(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !PublicAddr(ap.Addr()) {
				return errNotAllowed
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   64, // many tenants often share one receiver (a SaaS's own backend)
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// message is one signed request to send.
type message struct {
	url, secret string
	eventID     string
	body        []byte
}

// send makes one attempt at m and reports it. A 2xx answer is success;
// anything else, or no answer, is an error kept in the attempt (never a
// secret: the URL's query may hold one, so only the host is named).
func send(ctx context.Context, client *http.Client, m message, userAgent string) Attempt {
	start := time.Now()
	a := Attempt{At: start.UTC().Truncate(time.Millisecond)}
	defer func() { a.DurationMS = time.Since(start).Milliseconds() }()
	sig, err := Sign(m.secret, m.eventID, start, m.body)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.url, strings.NewReader(string(m.body)))
	if err != nil {
		a.Error = "bad url"
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("webhook-id", m.eventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(start.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	res, err := client.Do(req)
	if err != nil {
		a.Error = describe(err)
		a.DurationMS = time.Since(start).Milliseconds()
		return a
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // lets the connection be reused
	res.Body.Close()
	a.StatusCode = res.StatusCode
	if res.StatusCode < 200 || res.StatusCode > 299 {
		a.Error = fmt.Sprintf("the endpoint answered %d", res.StatusCode)
	}
	a.DurationMS = time.Since(start).Milliseconds()
	return a
}

// describe says why a request failed without repeating its URL.
func describe(err error) string {
	switch {
	case errors.Is(err, errNotAllowed):
		return errNotAllowed.Error()
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "timed out"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "could not resolve the host: " + dns.Err
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Op + ": " + op.Err.Error()
	}
	return "request failed"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
