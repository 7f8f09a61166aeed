package plans

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/condohq/condo"
)

// Builtin returns the plans a server knows when no plans file is given:
// free, pro and enterprise (their limits are in the README).
func Builtin() *Set { return NewSet(builtin(), nil) }

func builtin() []*Plan {
	return []*Plan{
		{Name: "free", StorageQuota: 1 << 30, UserLimit: 10, ItemsPerCollection: 10_000, MediaFileSize: 10 << 20,
			RequestsPerSecond: 100, Burst: 300, LibSQL: true, CustomDomains: 3, APITokens: 10, Webhooks: 2, AllPlugins: true},
		{Name: "pro", StorageQuota: 10 << 30, UserLimit: 100, ItemsPerCollection: 1_000_000, MediaFileSize: 100 << 20,
			RequestsPerSecond: 500, Burst: 1000, LibSQL: true, CustomDomains: 10, APITokens: 100, Webhooks: 20, AllPlugins: true},
		{Name: "enterprise", StorageQuota: 100 << 30, UserLimit: 10_000, ItemsPerCollection: Unlimited, MediaFileSize: 1 << 30,
			RequestsPerSecond: 5000, Burst: 10000, LibSQL: true, CustomDomains: Unlimited, APITokens: Unlimited, Webhooks: Unlimited, AllPlugins: true},
	}
}

// Load reads the plans file at path (see Parse); an empty path is Builtin.
func Load(path string, logger *slog.Logger) (*Set, error) {
	if path == "" {
		return Builtin().WithLogger(logger), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plans file: %w", err)
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("plans file %s: %w", path, err)
	}
	return s.WithLogger(logger), nil
}

// planFile is the plans file's shape: a "plans" map of name to limits.
type planFile struct {
	Plans map[string]planEntry `yaml:"plans"`
}

// planEntry is one plan as written; a key left out takes the built-in
// free plan's value.
type planEntry struct {
	StorageQuota       *size    `yaml:"storage_quota"`
	UserLimit          *count   `yaml:"user_limit"`
	ItemsPerCollection *count   `yaml:"items_per_collection"`
	MediaFileSize      *size    `yaml:"media_file_size"`
	RequestsPerSecond  *float64 `yaml:"requests_per_second"`
	Burst              *int     `yaml:"burst"`
	LibSQL             *bool    `yaml:"libsql"`
	CustomDomains      *count   `yaml:"custom_domains"`
	APITokens          *count   `yaml:"api_tokens"`
	Webhooks           *count   `yaml:"webhooks"`
	Plugins            *plugins `yaml:"plugins"`
}

// goType is the Go type yaml names in an unknown-key error: not the
// operator's business.
var goType = regexp.MustCompile(` in type [\w.*\[\]]+`)

var planName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// Parse reads a plans file:
//
//	plans:
//	  starter:
//	    storage_quota: 500MB   # bytes, or a number with B, KB, MB, GB, TB, KiB, MiB, GiB, TiB
//	    user_limit: 10
//	    requests_per_second: 20
//	    burst: 40
//	    webhooks: true         # true (unlimited), false (none) or a count
//	    plugins: [seo]         # true (all), false (none) or a list
//
// Unknown keys are refused with their line. The file must define the
// fallback plan, free (Fallback): the plan a tenant whose plan the file
// does not name is held to. Errors are EINVALID (invalid_plans_file).
func Parse(b []byte) (*Set, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f planFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, invalid("the file is empty: it needs a plans: map")
		}
		msg := strings.TrimPrefix(strings.ReplaceAll(err.Error(), "\n ", ""), "yaml: ")
		return nil, invalid("%s", goType.ReplaceAllString(msg, ""))
	}
	if len(f.Plans) == 0 {
		return nil, invalid("no plans: the file needs a plans: map of at least the %s plan", Fallback)
	}
	if _, ok := f.Plans[Fallback]; !ok {
		return nil, invalid("no %q plan: tenants on a plan the file does not name are held to it", Fallback)
	}
	free := builtin()[0]
	var ps []*Plan
	for name, e := range f.Plans {
		if !planName.MatchString(name) {
			return nil, invalid("plan name %q: use 1-40 lowercase letters, digits, - and _, starting with a letter", name)
		}
		p := *free
		p.Name, p.PluginsAllowed = name, nil
		setSize(&p.StorageQuota, e.StorageQuota)
		setCount(&p.UserLimit, e.UserLimit)
		setCount(&p.ItemsPerCollection, e.ItemsPerCollection)
		setSize(&p.MediaFileSize, e.MediaFileSize)
		if e.RequestsPerSecond != nil {
			if *e.RequestsPerSecond < 0 || math.IsNaN(*e.RequestsPerSecond) || math.IsInf(*e.RequestsPerSecond, 0) {
				return nil, invalid("plan %s: requests_per_second must be 0 (no limit) or more", name)
			}
			p.RequestsPerSecond = *e.RequestsPerSecond
		}
		if e.Burst != nil {
			p.Burst = *e.Burst
		}
		if p.RequestsPerSecond > 0 && p.Burst < 1 {
			return nil, invalid("plan %s: burst must be at least 1 when requests_per_second is set", name)
		}
		if e.LibSQL != nil {
			p.LibSQL = *e.LibSQL
		}
		setCount(&p.CustomDomains, e.CustomDomains)
		setCount(&p.APITokens, e.APITokens)
		setCount(&p.Webhooks, e.Webhooks)
		if e.Plugins != nil {
			p.AllPlugins, p.PluginsAllowed = e.Plugins.all, e.Plugins.names
		}
		if p.UserLimit == Unlimited {
			return nil, invalid("plan %s: user_limit must be a number (it seeds each tenant's user_limit)", name)
		}
		ps = append(ps, &p)
	}
	return NewSet(ps, nil), nil
}

func invalid(format string, args ...any) error {
	return condo.ReasonErrorf(condo.EINVALID, "invalid_plans_file", format, args...)
}

func setSize(dst *int64, v *size) {
	if v != nil {
		*dst = int64(*v)
	}
}

func setCount(dst *int64, v *count) {
	if v != nil {
		*dst = int64(*v)
	}
}

// size is a byte count: an integer, or a number and a unit.
type size int64

var sizeText = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)$`)

var units = map[string]float64{"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}

// ParseSize reads "500MB", "1GiB" or "1048576" as bytes.
func ParseSize(s string) (int64, error) {
	m := sizeText.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: use bytes or a number with a unit such as 500MB or 1GiB", s)
	}
	mult, ok := units[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", s, m[2])
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	if v := n * mult; v < 1<<62 {
		return int64(v), nil
	}
	return 0, fmt.Errorf("%q is too large", s)
}

func (z *size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a size is a number of bytes or a string such as 500MB", n.Line)
	}
	v, err := ParseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*z = size(v)
	return nil
}

// count is a non-negative integer, "unlimited" (or -1), or a bool (true:
// unlimited, false: none).
type count int64

func (c *count) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		switch v := strings.ToLower(n.Value); {
		case v == "unlimited" || v == "-1" || v == "true":
			*c = count(Unlimited)
			return nil
		case v == "false":
			*c = 0
			return nil
		default:
			if i, err := strconv.ParseInt(v, 10, 64); err == nil && i >= 0 {
				*c = count(i)
				return nil
			}
		}
	}
	return fmt.Errorf("line %d: a limit is a whole number, unlimited, true or false", n.Line)
}

// plugins is true (every plugin), false (none) or a list of names.
type plugins struct {
	all   bool
	names []string
}

func (p *plugins) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var b bool
		if err := n.Decode(&b); err == nil {
			p.all = b
			return nil
		}
	case yaml.SequenceNode:
		if err := n.Decode(&p.names); err == nil {
			return nil
		}
	}
	return fmt.Errorf("line %d: plugins is true, false or a list of plugin names", n.Line)
}
