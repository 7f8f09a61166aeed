// Package bigfixture is what scripts/contentbench's 100,000-item tenant
// is made of and asked: its vocabulary and its seeded request lists, shared
// by contentbench (which builds the tenant and loads it over HTTP) and the
// in-process benchmarks of cms and api over the same file.
package bigfixture

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Vocabulary is the big tenant's words, most frequent first: 3,000
// made-up words of two to four syllables, drawn with Zipf(1.0) frequencies
// like a natural language's (the first is in almost every item, the
// 3,000th in about one in 500).
var Vocabulary = func() []string {
	rng := rand.New(rand.NewPCG(5, 6))
	cons, vows := strings.Split("b c d f g h k l m n p r s t v z br st tr pl", " "), strings.Split("a e i o u ai ou", " ")
	seen := map[string]bool{}
	var out []string
	for len(out) < 3000 {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(cons[rng.IntN(len(cons))] + vows[rng.IntN(len(vows))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}()

// Queries are the seeded request lists, 2,000 of each: where= values of
// a random 1% price range (the collection posts has an indexed price),
// one of the 10 most frequent words, and a word of frequency rank 1,000
// to 3,000.
func Queries() (lists, common, rare []string) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		lo := rng.IntN(9800)
		lists = append(lists, fmt.Sprintf(`{"and":[{"field":"data.price","operator":"greater_than_equal","value":%d},{"field":"data.price","operator":"less_than","value":%d}]}`, lo, lo+100))
		common = append(common, Vocabulary[rng.IntN(10)])
		rare = append(rare, Vocabulary[1000+rng.IntN(2000)])
	}
	return lists, common, rare
}
