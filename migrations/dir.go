package migrations

import (
	"fmt"
	"os"
)

// LoadDir reads a set of migration files from a directory on disk, for an
// operator trying an unreleased migration (CONDO_TENANT_MIGRATIONS) and for
// tests. name names the set in errors.
func LoadDir(dir, name string) (*Set, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s migrations: %w", name, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s migrations: %s is not a directory", name, dir)
	}
	s, err := Load(os.DirFS(dir), ".")
	if err != nil {
		return nil, fmt.Errorf("%s migrations in %s: %w", name, dir, err)
	}
	if s.Latest() == 0 {
		return nil, fmt.Errorf("%s migrations: %s holds no NNNNNN_name.up.sql files", name, dir)
	}
	s.Name = name
	return s, nil
}
