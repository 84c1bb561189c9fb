package plan

import (
	"strings"

	"github.com/go-dsynth/dsynth/plan/portscan"
)

// excludedBy returns the profile's exclude pattern that matches the port
// origin in flavor ("" when the flavor is not known yet: only patterns
// for the whole port or its category match then), or "" when none does.
// Patterns (checked by spec.CheckExclude): category/port (every flavor),
// category/port@flavor, category/*.
func excludedBy(patterns []string, origin, flavor string) string {
	for _, x := range patterns {
		if cat, ok := strings.CutSuffix(x, "/*"); ok {
			if strings.HasPrefix(origin, cat+"/") {
				return x
			}
			continue
		}
		r := portscan.ParseRef(x)
		if r.Origin == origin && (r.Flavor == "" || (flavor != "" && r.Flavor == flavor)) {
			return x
		}
	}
	return ""
}

// excludedReason is the Ignore text of an excluded node.
func excludedReason(pattern string) string {
	return `excluded by the profile (exclude "` + pattern + `")`
}

// prune drops the nodes that no root needs: after exclusion cut an
// excluded node's edges, what only it needed is not planned. ids is
// sorted and stays so.
func prune(nodes map[string]*Node, ids []string, roots []string) []string {
	keep := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if keep[id] || nodes[id] == nil {
			return
		}
		keep[id] = true
		for _, d := range allDeps(nodes[id]) {
			visit(d)
		}
	}
	for _, r := range roots {
		visit(r)
	}
	out := ids[:0]
	for _, id := range ids {
		if keep[id] {
			out = append(out, id)
		} else {
			delete(nodes, id)
		}
	}
	return out
}
