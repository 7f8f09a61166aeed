package hrana

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
)

// Batons are base64url (unpadded) of the stream id, the sequence number
// and an HMAC-SHA256 of both and the tenant id, with the registry's key:
// unforgeable, bound to one tenant, and single-use since every request
// bumps the sequence.
const batonLen = 8 + 8 + sha256.Size

// baton returns the baton of stream id at seq. With Config.NodeID set, a baton starts with the node that holds its
// stream and a dot ("node-7.<base64url>"), in the clear: it is only a
// routing hint (the HMAC, with this process's key, is what is trusted),
// so that a forwarding node sends the stream's next request to that node
// (BatonNode), and a node that is not it says so instead of taking the
// baton for a forgery.
func (r *Registry) baton(tenant string, id, seq uint64) string {
	b := make([]byte, 16, batonLen)
	binary.BigEndian.PutUint64(b, id)
	binary.BigEndian.PutUint64(b[8:], seq)
	s := base64.RawURLEncoding.EncodeToString(r.mac(b, tenant, id, seq))
	if r.cfg.NodeID != "" {
		return r.cfg.NodeID + "." + s
	}
	return s
}

// BatonNode is the node a baton names, "" when it names none.
func BatonNode(baton string) string {
	node, _ := splitBaton(baton)
	return node
}

// splitBaton separates a baton's node (base64url has no dot) from the
// rest.
func splitBaton(baton string) (node, rest string) {
	if i := strings.LastIndexByte(baton, '.'); i >= 0 {
		return baton[:i], baton[i+1:]
	}
	return "", baton
}

func (r *Registry) mac(dst []byte, tenant string, id, seq uint64) []byte {
	m := hmac.New(sha256.New, r.key[:])
	var n [16]byte
	binary.BigEndian.PutUint64(n[:], id)
	binary.BigEndian.PutUint64(n[8:], seq)
	m.Write(n[:])
	m.Write([]byte(tenant))
	return m.Sum(dst)
}

// parseBaton reads a baton's stream id and sequence, unverified.
func (r *Registry) parseBaton(baton string) (id, seq uint64, ok bool) {
	if base64.RawURLEncoding.EncodedLen(batonLen) != len(baton) {
		return 0, 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(baton)
	if err != nil || len(b) != batonLen {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), true
}

// verify reports whether baton is the registry's own for (tenant, id, seq).
func (r *Registry) verify(baton, tenant string, id, seq uint64) bool {
	b, _ := base64.RawURLEncoding.DecodeString(baton)
	return len(b) == batonLen && hmac.Equal(b[16:], r.mac(nil, tenant, id, seq))
}
