package route

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// DefaultNodesTTL is how long the catalog's node list is trusted: a node
// that stops is avoided within it (its heartbeats go stale later).
const DefaultNodesTTL = 2 * time.Second

// Nodes answers which nodes may serve a region, from the catalog's list
// cached for TTL, never counting this node (Self).
type Nodes struct {
	catalog *catalog.Catalog
	self    string
	ttl     time.Duration
	now     func() time.Time

	mu      sync.Mutex
	list    []catalog.Node
	fetched time.Time
}

// NewNodes lists cat's nodes other than self, cached for ttl (0:
// DefaultNodesTTL).
func NewNodes(cat *catalog.Catalog, self string, ttl time.Duration) *Nodes {
	if ttl <= 0 {
		ttl = DefaultNodesTTL
	}
	return &Nodes{catalog: cat, self: self, ttl: ttl, now: time.Now}
}

// Up returns the healthy nodes of region other than this one.
func (n *Nodes) Up(ctx context.Context, region string) ([]catalog.Node, error) {
	all, err := n.nodes(ctx)
	if err != nil {
		return nil, err
	}
	return upIn(all, region, n.self), nil
}

// Pick chooses the node to forward a request for key (the tenant id) to
// in region, among its healthy nodes that have an advertise URL. The
// choice is by rendezvous hashing: one tenant's requests keep going to
// one node (its libSQL streams live there, and its caches), and a node
// joining or leaving moves only the tenants it gains or loses.
// EUNAVAILABLE (region_unavailable) when there is none.
//
// prefer, when it names one of those nodes, wins: the node a libSQL
// baton names holds the stream its request continues.
func (n *Nodes) Pick(ctx context.Context, region, key, prefer string) (catalog.Node, error) {
	up, err := n.Up(ctx, region)
	if err != nil {
		return catalog.Node{}, err
	}
	var best catalog.Node
	var bestScore uint64
	for _, node := range up {
		if node.AdvertiseURL == "" {
			continue
		}
		if node.ID == prefer {
			return node, nil
		}
		if score := rendezvous(key, node.ID); best.ID == "" || score > bestScore {
			best, bestScore = node, score
		}
	}
	if best.ID == "" {
		return catalog.Node{}, Unavailable(region)
	}
	return best, nil
}

// rendezvous is key's score for node.
func rendezvous(key, node string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(node))
	return h.Sum64()
}

// Unavailable is the error of a home region with no healthy node.
func Unavailable(region string) error {
	return condo.ReasonErrorf(condo.EUNAVAILABLE, "region_unavailable", "the tenant's home region %s has no healthy node: retry later", region)
}

func (n *Nodes) nodes(ctx context.Context) ([]catalog.Node, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.list != nil && n.now().Sub(n.fetched) < n.ttl {
		return n.list, nil
	}
	list, err := n.catalog.Nodes(ctx)
	if err != nil {
		if n.list != nil {
			// Stale-while-unavailable, as host resolution does: a
			// control plane that cannot be reached keeps the last list
			// (tried again after ttl), so forwarding to healthy homes
			// goes on.
			n.fetched = n.now()
			return n.list, nil
		}
		return nil, err
	}
	n.list, n.fetched = list, n.now()
	return list, nil
}

// upIn filters list (sorted by region and id, as the catalog lists it)
// to region's healthy nodes other than self.
func upIn(list []catalog.Node, region, self string) []catalog.Node {
	var out []catalog.Node
	for _, node := range list {
		if node.Region == region && node.ID != self && node.Health == catalog.NodeUp {
			out = append(out, node)
		}
	}
	return out
}
