package api

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// DefaultMaxConnsPerIP is how many connections one client address may
// hold open at once, unless configured otherwise.
const DefaultMaxConnsPerIP = 64

// maxRejecting bounds the connections being refused at one moment; past
// it, a refused connection is closed without an answer.
const maxRejecting = 64

// tooManyConns is the answer to a connection over its address's limit.
var tooManyConns = func() []byte {
	body := `{"error":{"code":"too_many_connections","message":"too many open connections from your address"}}`
	return fmt.Appendf(nil, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nConnection: close\r\n"+
		"Retry-After: 1\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}()

// LimitConnsPerIP returns a listener that lets each remote IP hold at most
// max connections at once (no limit when max is 0 or less). Connections
// beyond it are answered 429 and closed at once, so one client, however
// slowly it sends, cannot take every descriptor the process has.
//
// Behind a proxy every connection comes from the proxy's address: raise
// the limit there or turn it off, and let the proxy limit its clients.
func LimitConnsPerIP(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &connLimiter{Listener: ln, max: max, open: map[string]int{}, rejecting: make(chan struct{}, maxRejecting)}
}

type connLimiter struct {
	net.Listener
	max       int
	mu        sync.Mutex
	open      map[string]int // guarded by mu: open connections per remote IP
	rejecting chan struct{}  // a slot per connection being refused
}

// Accept returns the next connection its address may still open,
// refusing the others on the way.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		l.mu.Lock()
		if l.open[ip] >= l.max {
			l.mu.Unlock()
			l.reject(c)
			continue
		}
		l.open[ip]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(ip) }}, nil
	}
}

func (l *connLimiter) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

// reject answers 429 and closes c off the accept loop. It half-closes
// first and drains what the client sent for a moment, because closing a
// socket with unread input resets it and the client would lose the answer.
func (l *connLimiter) reject(c net.Conn) {
	select {
	case l.rejecting <- struct{}{}:
	default:
		c.Close() // refusing too many already: no answer
		return
	}
	go func() { // owned by the limiter; ends within a second
		defer func() { <-l.rejecting }()
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write(tooManyConns); err != nil {
			return
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
}

// remoteIP is the client address a connection counts against: its IPv4
// address, or the /64 of an IPv6 one, since one subscriber is usually
// given a whole /64 and could otherwise open the limit from each address.
func remoteIP(c net.Conn) string {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return clientKey(ap.Addr())
}

func clientKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// countedConn gives its address's slot back when closed, once.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// CloseWrite half-closes the connection where it can: net/http does so
// before closing one whose client may still be sending, so that the client
// reads the answer (a 408) rather than a reset.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom lets net/http send files with the connection's own ReadFrom
// (sendfile on TCP), as it would without the wrapper.
func (c *countedConn) ReadFrom(r io.Reader) (int64, error) { return io.Copy(c.Conn, r) }
