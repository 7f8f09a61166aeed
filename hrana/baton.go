package hrana

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
)

// Batons are base64url (unpadded) of the stream id, the sequence number
// and an HMAC-SHA256 of both and the tenant id, with the registry's key:
// unforgeable, bound to one tenant, and single-use since every request
// bumps the sequence.
const batonLen = 8 + 8 + sha256.Size

func (r *Registry) baton(tenant string, id, seq uint64) string {
	b := make([]byte, 16, batonLen)
	binary.BigEndian.PutUint64(b, id)
	binary.BigEndian.PutUint64(b[8:], seq)
	return base64.RawURLEncoding.EncodeToString(r.mac(b, tenant, id, seq))
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
