package main

import (
	"flag"
	"fmt"
	"sort"
	"strings"
)

// suggest returns the candidate closest to s by edit distance when it is
// close enough to be a typo ("" otherwise).
func suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	lenDiff := func(c string) int { return max(len(c)-len(s), len(s)-len(c)) }
	for _, c := range candidates {
		d := editDistance(s, c)
		if d < bestD || (d == bestD && (lenDiff(c) < lenDiff(best) || (lenDiff(c) == lenDiff(best) && c < best))) {
			best, bestD = c, d
		}
	}
	if bestD <= max(1, len(s)/3) {
		return best
	}
	return ""
}

// editDistance is the optimal-string-alignment distance of a and b
// (Levenshtein plus the transposition of two neighbours, the commonest
// typo).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// commandHint is " Did you mean \"x\"?" for a mistyped command, or "".
func commandHint(name string) string {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	if s := suggest(name, names); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

// flagHint is " Did you mean -x?" when err is flag's "flag provided but
// not defined: -y" and fs has a flag close to y.
func flagHint(fs *flag.FlagSet, err error) string {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: ")
	if !ok {
		return ""
	}
	name = strings.TrimLeft(name, "-")
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if s := suggest(name, names); s != "" {
		return fmt.Sprintf("Did you mean -%s?", s)
	}
	return ""
}

// plural is "1 port" or "2 ports".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// portsPhrase is "this port" or "these N ports".
func portsPhrase(n int) string {
	if n == 1 {
		return "this port"
	}
	return fmt.Sprintf("these %d ports", n)
}
