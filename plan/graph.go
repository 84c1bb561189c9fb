package plan

import "sort"

// findCycles returns one CycleError per strongly connected component with
// a cycle (Tarjan), each with a concrete path through it starting at its
// smallest node ID.
func findCycles(ids []string, nodes map[string]*Node) []*CycleError {
	// Tarjan's algorithm, its per-node state in one map (a large tree
	// has tens of thousands of nodes).
	type mark struct {
		index, low int
		on         bool
	}
	marks := make(map[string]*mark, len(ids))
	var stack []string
	var out []*CycleError
	next := 0
	var strong func(v string)
	strong = func(v string) {
		mv := &mark{index: next, low: next, on: true}
		marks[v] = mv
		next++
		stack = append(stack, v)
		for _, w := range allDeps(nodes[v]) {
			if nodes[w] == nil {
				continue
			}
			if mw, seen := marks[w]; !seen {
				strong(w)
				mv.low = min(mv.low, marks[w].low)
			} else if mw.on {
				mv.low = min(mv.low, mw.index)
			}
		}
		if mv.low != mv.index {
			return
		}
		var comp []string
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			marks[w].on = false
			comp = append(comp, w)
			if w == v {
				break
			}
		}
		self := false
		for _, d := range allDeps(nodes[v]) {
			if d == v {
				self = true
			}
		}
		if len(comp) > 1 || self {
			path := cyclePath(comp, nodes) // sorts comp
			out = append(out, &CycleError{Path: path, members: append([]string(nil), comp...)})
		}
	}
	for _, id := range ids {
		if _, seen := marks[id]; !seen {
			strong(id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path[0] < out[j].Path[0] })
	return out
}

// cyclePath finds a cycle inside the component comp, from its smallest ID
// back to it (breadth-first, so the path is a shortest one).
func cyclePath(comp []string, nodes map[string]*Node) []string {
	in := map[string]bool{}
	for _, c := range comp {
		in[c] = true
	}
	sort.Strings(comp)
	start := comp[0]
	prev := map[string]string{}
	queue := []string{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range allDeps(nodes[v]) {
			if !in[w] {
				continue
			}
			if w == start {
				path := []string{start}
				for x := v; x != start; x = prev[x] {
					path = append(path, x)
				}
				// path is start, v, ..., reversed after start.
				rev := []string{start}
				for i := len(path) - 1; i >= 1; i-- {
					rev = append(rev, path[i])
				}
				return append(rev, start)
			}
			if _, seen := prev[w]; !seen && w != start {
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	return append(comp, start)
}

// topoOrder returns the node IDs with every node after its dependencies:
// a depth-first post-order over IDs and dependencies in sorted order, so
// it is deterministic. The graph must be acyclic.
func topoOrder(p *Plan) []string {
	done := make(map[string]bool, len(p.Ports))
	out := make([]string, 0, len(p.Ports))
	var visit func(id string)
	visit = func(id string) {
		if done[id] {
			return
		}
		done[id] = true
		n := p.Node(id)
		for _, d := range allDeps(n) {
			visit(d)
		}
		out = append(out, id)
	}
	for i := range p.Ports {
		visit(p.Ports[i].ID)
	}
	return out
}

// setPriorities sets each node's Priority to the length of the longest
// chain of dependents above it (0 for a node nothing depends on), so a
// scheduler starting the highest priority first unblocks most work.
func setPriorities(p *Plan) {
	prio := make(map[string]int, len(p.Ports))
	for i := len(p.Order) - 1; i >= 0; i-- {
		n := p.Node(p.Order[i])
		for _, d := range allDeps(n) {
			if prio[n.ID]+1 > prio[d] {
				prio[d] = prio[n.ID] + 1
			}
		}
	}
	for i := range p.Ports {
		p.Ports[i].Priority = prio[p.Ports[i].ID]
	}
}
