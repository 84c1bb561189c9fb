package spec

// Suggest returns the candidate closest to s by edit distance when it is
// close enough to be a typo ("" otherwise).
func Suggest(s string, candidates []string) string {
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
