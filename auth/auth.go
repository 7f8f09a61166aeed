// Package auth is identity inside one tenant: users and their passwords,
// sessions with rotating refresh tokens, access JWTs that carry the tenant
// (tid) they were issued for, roles and permissions, API tokens, password
// resets, invitations and the tenant's audit log.
//
// A Store works on one tenant's database and nothing else, so what it
// finds belongs to that tenant by construction. Tokens name their tenant
// too: an access JWT carries tid, an API token embeds the tenant id, and
// callers refuse a token whose tenant is not the request's.
//
// Secrets (refresh tokens, API tokens, reset and invitation tokens) are
// 32 random bytes, handed out once and stored only as SHA-256 hashes;
// passwords are argon2id hashes. Nothing here logs a secret.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"time"

	"github.com/condohq/condo"
)

// Store does identity work on one tenant's database.
type Store struct {
	TenantID string
	DB       condo.DB
	now      func() time.Time
}

// New returns a Store for the tenant whose database db is.
func New(tenantID string, db condo.DB) *Store {
	return &Store{TenantID: tenantID, DB: db, now: time.Now}
}

// NewSecret returns a fresh random token: 32 bytes, lower-case base32.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return secretEncoding.EncodeToString(b)
}

var secretEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// HashSecret is how a random token is stored: its SHA-256, hex. A fast
// hash is right here because the tokens carry 256 bits of entropy.
func HashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
