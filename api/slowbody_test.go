package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
)

// trickle opens a connection from the local address from (127.0.0.x) and
// starts a login whose body it sends a byte at a time, every, until the
// connection closes. The server's answer, or the read error, arrives on
// the returned channel.
func trickle(t *testing.T, addr, from string, every time.Duration) (net.Conn, <-chan string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /auth/login HTTP/1.1\r\nHost: tenant-a.localhost\r\nContent-Type: application/json\r\nAccept-Encoding: gzip\r\nContent-Length: 100000\r\n\r\n{")
	go func() { // ends when the connection does
		for {
			time.Sleep(every)
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	answer := make(chan string, 1)
	go func() {
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			answer <- "error: " + err.Error()
			return
		}
		defer res.Body.Close()
		var body api.ErrorBody
		json.NewDecoder(res.Body).Decode(&body)
		answer <- fmt.Sprintf("%d %s", res.StatusCode, body.Error.Code)
	}()
	return c, answer
}

// serveLimited serves h on a loopback listener behind LimitConnsPerIP,
// as condo serve does, and reports how many connections the server took
// from an address.
func serveLimited(t *testing.T, h http.Handler, limit int) (addr string, accepted func(ip string) int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	taken := map[string]int{} // guarded by mu
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ConnState: func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			mu.Lock()
			taken[host]++
			mu.Unlock()
		}
	}}
	go srv.Serve(api.LimitConnsPerIP(ln, limit)) // ends at Close
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), func(ip string) int {
		mu.Lock()
		defer mu.Unlock()
		return taken[ip]
	}
}

func wait(t *testing.T, answer <-chan string) string {
	t.Helper()
	select {
	case a := <-answer:
		return a
	case <-time.After(30 * time.Second): // only in case the server never answers
		t.Fatal("no answer")
		return ""
	}
}

// Fifty clients of one address trickling login bodies hold at most the
// per-address limit of connections; the rest are refused at once, and
// another client still gets answers.
func TestSlowBodies_ConnsPerIP(t *testing.T) {
	e := newIdentity(t, api.Config{BodyTimeout: time.Minute}) // the held ones stay held
	const limit, clients = 8, 50
	addr, accepted := serveLimited(t, e.API, limit)

	answers := make([]<-chan string, clients)
	for i := range answers {
		_, answers[i] = trickle(t, addr, "127.0.0.2", 100*time.Millisecond)
	}
	// Accepting is first come, first served: the first limit are held.
	for i, a := range answers[limit:] {
		if got := wait(t, a); got != "429 too_many_connections" {
			t.Errorf("client %d: %s, want 429 too_many_connections", limit+i, got)
		}
	}
	for i, a := range answers[:limit] {
		select {
		case got := <-a:
			t.Errorf("held client %d answered already: %s", i, got)
		default:
		}
	}
	if got := accepted("127.0.0.2"); got != limit {
		t.Errorf("the server took %d connections of 127.0.0.2, want %d", got, limit)
	}

	// Another address is served while those are held.
	for _, path := range []string{"/healthz", "/api/tenant"} {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Host = "tenant-a.localhost"
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, res.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/auth/login",
		strings.NewReader(`{"email": "admin@example.com", "password": "`+apitest.AdminPass+`tenant-a"}`))
	req.Host = "tenant-a.localhost"
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login while the slow clients wait: %v %v", res, err)
	}
}

// A body that does not arrive within the body timeout is answered 408 and
// its connection closed; an upload has the longer upload timeout.
func TestSlowBodies_Deadline(t *testing.T) {
	e := newIdentity(t, api.Config{BodyTimeout: 200 * time.Millisecond, UploadTimeout: time.Minute})
	addr, _ := serveLimited(t, e.API, api.DefaultMaxConnsPerIP)
	answers := make([]<-chan string, 20)
	for i := range answers {
		_, answers[i] = trickle(t, addr, "127.0.0.1", 20*time.Millisecond)
	}
	for i, a := range answers {
		if got := wait(t, a); got != "408 request_timeout" {
			t.Errorf("slow client %d: %s, want 408 request_timeout", i, got)
		}
	}
	admin := e.AdminToken(t, "tenant-a") // a normal body is still read

	// An upload sent in pieces over several body timeouts completes.
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	fw, _ := w.CreateFormFile("file", "logo.png")
	fw.Write(pngBytes(t, 64, 64))
	w.Close()
	pr, pw := io.Pipe()
	go func() {
		b := form.Bytes()
		for i := 0; i < 10; i++ {
			time.Sleep(100 * time.Millisecond)
			n := len(b) / (10 - i)
			pw.Write(b[:n])
			b = b[n:]
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/media", pr)
	req.Host = "tenant-a.localhost"
	req.ContentLength = int64(form.Len())
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("slow upload: %d, want 201", res.StatusCode)
	}
}
