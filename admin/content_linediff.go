package admin

import "strings"

// diffLine is one line of a line-by-line comparison of two texts.
type diffLine struct {
	Kind string // "same", "del" (only in the older text), "ins" (only in the newer)
	Text string
}

// Sign is the line's mark in text, so the change reads without colour.
func (l diffLine) Sign() string {
	switch l.Kind {
	case "del":
		return "−"
	case "ins":
		return "+"
	}
	return " "
}

// maxDiffLines bounds the texts compared line by line (the table of the
// longest common subsequence is their product).
const maxDiffLines = 400

// lineDiff compares two texts line by line (longest common subsequence);
// nil when neither has more than one line, or they are too long to
// compare.
func lineDiff(a, b string) []diffLine {
	if !strings.Contains(a, "\n") && !strings.Contains(b, "\n") {
		return nil
	}
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(x) > maxDiffLines || len(y) > maxDiffLines {
		return nil
	}
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		switch {
		case x[i] == y[j]:
			out = append(out, diffLine{"same", x[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, diffLine{"del", x[i]})
			i++
		default:
			out = append(out, diffLine{"ins", y[j]})
			j++
		}
	}
	for ; i < len(x); i++ {
		out = append(out, diffLine{"del", x[i]})
	}
	for ; j < len(y); j++ {
		out = append(out, diffLine{"ins", y[j]})
	}
	return out
}
