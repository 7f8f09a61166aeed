package condo_test

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerignore holds the patterns of a .dockerignore file, read the way
// docker build reads them: one pattern a line, # comments, paths relative
// to the context root (a leading / changes nothing), * and ? within one
// path element, ** across any number, ! re-including, the last matching
// line deciding, and an excluded directory taking its contents with it.
type dockerignore []struct {
	re     *regexp.Regexp
	negate bool
}

func readDockerignore(t *testing.T, path string) dockerignore {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d dockerignore
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		negate := strings.HasPrefix(line, "!")
		line = strings.TrimPrefix(line, "!")
		line = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(line)), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case strings.HasPrefix(line[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(line[i:], "**"):
				re.WriteString(".*")
				i++
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		d = append(d, struct {
			re     *regexp.Regexp
			negate bool
		}{regexp.MustCompile(re.String()), negate})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return d
}

// excludes reports whether path (slash-separated, relative to the
// context) stays out of the build context.
func (d dockerignore) excludes(path string) bool {
	elems := strings.Split(path, "/")
	for i := range elems {
		if d.matches(strings.Join(elems[:i+1], "/")) {
			return true // an excluded directory excludes what it holds
		}
	}
	return false
}

func (d dockerignore) matches(path string) bool {
	excluded := false
	for _, p := range d {
		if p.re.MatchString(path) {
			excluded = !p.negate
		}
	}
	return excluded
}

// The data directory (catalog with password hashes and the JWT secret,
// tenant databases) never reaches docker build, and the sources do.
func TestDockerignore(t *testing.T) {
	d := readDockerignore(t, ".dockerignore")
	for _, p := range []string{"data", "data/catalog.db", "data/catalog.db-wal", "data/tenants/acme/tenant.db",
		"data/tenants/acme/media/0193/photo.jpg", "data/backups/x", "catalog.db", "elsewhere/tenant.db-wal",
		".git", ".git/config", ".env", "condo", "api/api.test", "server.pem"} {
		if !d.excludes(p) {
			t.Errorf(".dockerignore lets %s into the build context", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "Dockerfile", "cmd/condo/main.go", "api/server.go",
		"migrations/catalog/000001_init.up.sql", "migrations/tenant/000001_init.up.sql"} {
		if d.excludes(p) {
			t.Errorf(".dockerignore keeps %s, which the build needs, out of the build context", p)
		}
	}
	// Every source file of the tree must still reach the build.
	err := filepath.WalkDir(".", func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		path = filepath.ToSlash(path)
		if e.IsDir() && (path == ".git" || path == "data") {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); !e.IsDir() && (ext == ".go" || ext == ".sql") && d.excludes(path) {
			t.Errorf(".dockerignore keeps the source %s out of the build context", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
