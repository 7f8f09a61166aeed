// Package lifecycle moves a whole tenant in and out of a node as one file:
// export writes a consistent snapshot of its database and its media, with
// a manifest, as a zstd-compressed tar stream; import verifies such an
// archive to the last byte and creates a tenant from it, or leaves nothing.
//
// Archive layout (entries in this order, so both sides stream):
//
//	tenant.db        a snapshot of the database (VACUUM INTO while it serves)
//	media/...        the tenant's media files, as regular files
//	manifest.json    what the tenant was, and the size and SHA-256 of each file
//
// The manifest comes last because only then are the checksums known; an
// import stages every entry, checks them all against it and only then
// creates the tenant.
package lifecycle

import (
	"encoding/json"
	"time"

	"github.com/condohq/condo/catalog"
)

// Format names the archive layout; an import refuses any other.
const Format = "condo-tenant-export/1"

// Entry names inside an archive.
const (
	dbEntry       = "tenant.db"
	mediaPrefix   = "media/"
	manifestEntry = "manifest.json"
)

// maxManifest bounds the manifest an import reads into memory: a tenant
// with a million media files is still far below it.
const maxManifest = 256 << 20

// Manifest describes an exported tenant. It holds no secret: no password
// hash, token or location credential lives in the catalog row it copies,
// and the database's own secrets stay inside the database.
type Manifest struct {
	Format        string         `json:"format"`
	CondoVersion  string         `json:"condo_version"`
	CreatedAt     time.Time      `json:"created_at"`
	Tenant        TenantRecord   `json:"tenant"`
	SchemaVersion uint           `json:"schema_version"`
	Files         []File         `json:"files"`
	Stats         map[string]int `json:"stats,omitempty"` // rows per table, for people reading it
}

// TenantRecord is the catalog's view of the tenant, as import recreates
// it. Region is informational: an imported tenant's home is the node that
// imports it, and its residency must allow that.
type TenantRecord struct {
	ID           string           `json:"id"`
	Name         string           `json:"name"`
	Plan         string           `json:"plan"`
	Status       string           `json:"status"`
	StorageQuota int64            `json:"storage_quota"`
	UserLimit    int64            `json:"user_limit"`
	Branding     json.RawMessage  `json:"branding,omitempty"`
	Region       string           `json:"region,omitempty"`
	Residency    string           `json:"residency,omitempty"`
	Domains      []catalog.Domain `json:"domains,omitempty"`
}

// File is one archive entry the manifest vouches for.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Progress reports bytes done out of total (total is 0 when unknown, as
// for an import read from a stream).
type Progress func(done, total int64)
