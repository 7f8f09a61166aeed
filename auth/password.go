package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/condohq/condo"
)

// argon2id parameters: OWASP's minimum (19 MiB, two passes, one lane),
// about 30 ms on one core, so a login stays well under 100 ms.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// MaxPasswordLen bounds what is hashed, so a megabyte password cannot
// become a denial of service.
const MaxPasswordLen = 256

// hashSlots bounds concurrent hashing: each argon2id call holds 19 MiB,
// and a burst of logins must not take the process's memory with it.
var hashSlots = make(chan struct{}, 2*runtime.NumCPU())

// HashPassword returns the argon2id hash of pw in the PHC string format.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	hashSlots <- struct{}{}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	<-hashSlots
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// CheckPassword reports whether pw matches hash: an argon2id PHC string,
// or a bcrypt hash imported from another CMS. An empty or malformed hash
// never matches.
func CheckPassword(hash, pw string) bool {
	if strings.HasPrefix(hash, "$2") {
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
	}
	var version int
	var m uint32
	var t uint32
	var p uint8
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 256*1024 || t > 10 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	hashSlots <- struct{}{}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	<-hashSlots
	return subtle.ConstantTimeCompare(got, want) == 1
}

// needsRehash reports whether a stored hash uses other parameters than
// today's, so a successful login upgrades it.
func needsRehash(hash string) bool {
	return !strings.HasPrefix(hash, fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, argonMemory, argonTime, argonThreads))
}

// dummyHash is checked when no user matches, so a wrong email costs as
// much as a wrong password and reveals nothing.
var dummyHash = sync.OnceValue(func() string { return HashPassword("condo-timing-equaliser") })

// PasswordPolicy is a tenant's rule for new passwords.
type PasswordPolicy struct {
	MinLength     int  `json:"min_length"`
	RequireUpper  bool `json:"require_upper"`
	RequireLower  bool `json:"require_lower"`
	RequireDigit  bool `json:"require_digit"`
	RequireSymbol bool `json:"require_symbol"`
}

// DefaultPasswordPolicy asks for length, which matters most (NIST 800-63B).
var DefaultPasswordPolicy = PasswordPolicy{MinLength: 10}

func (p PasswordPolicy) validate() error {
	if p.MinLength < 8 || p.MinLength > 128 {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_settings", "password_policy.min_length must be between 8 and 128")
	}
	return nil
}

// Check refuses a password that breaks the policy, naming every rule it
// breaks.
func (p PasswordPolicy) Check(pw string) error {
	if !utf8.ValidString(pw) {
		return condo.ReasonErrorf(condo.EINVALID, "weak_password", "the password is not valid UTF-8")
	}
	if len(pw) > MaxPasswordLen {
		return condo.ReasonErrorf(condo.EINVALID, "weak_password", "a password is at most %d bytes", MaxPasswordLen)
	}
	var upper, lower, digit, symbol bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case !unicode.IsSpace(r):
			symbol = true
		}
	}
	var broken []string
	if utf8.RuneCountInString(pw) < p.MinLength {
		broken = append(broken, fmt.Sprintf("at least %d characters", p.MinLength))
	}
	for _, rule := range []struct {
		need, have bool
		what       string
	}{{p.RequireUpper, upper, "an upper-case letter"}, {p.RequireLower, lower, "a lower-case letter"},
		{p.RequireDigit, digit, "a digit"}, {p.RequireSymbol, symbol, "a symbol"}} {
		if rule.need && !rule.have {
			broken = append(broken, rule.what)
		}
	}
	if len(broken) > 0 {
		return condo.ReasonErrorf(condo.EINVALID, "weak_password", "the password needs %s", strings.Join(broken, ", "))
	}
	return nil
}
