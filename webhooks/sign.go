package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/condohq/condo"
)

// secretPrefix marks a signing secret, as Standard Webhooks do.
const secretPrefix = "whsec_"

// NewSecret returns a new signing secret: whsec_ and 32 random bytes in
// standard base64.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey is the HMAC key of a secret.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) == 0 {
		return nil, condo.Errorf(condo.EINTERNAL, "malformed webhook secret")
	}
	return key, nil
}

// Sign returns the webhook-signature header of a message: "v1," and the
// base64 HMAC-SHA256, keyed with the secret's bytes, of
// "<id>.<timestamp>.<body>" (timestamp in Unix seconds).
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
