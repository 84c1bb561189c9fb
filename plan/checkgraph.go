package plan

import "fmt"

// CheckGraph verifies a decoded plan's graph: node IDs sorted and unique,
// every dependency and pkg_node a node, no cycle, and the order a
// topological order of exactly the nodes.
func CheckGraph(p *Plan) error {
	for i := range p.Ports {
		n := &p.Ports[i]
		if n.ID == "" {
			return fmt.Errorf("node %d has no id", i)
		}
		if i > 0 && p.Ports[i-1].ID >= n.ID {
			return fmt.Errorf("nodes not sorted or %s given twice", n.ID)
		}
	}
	for i := range p.Ports {
		n := &p.Ports[i]
		for _, d := range allDeps(n) {
			if p.Node(d) == nil {
				return fmt.Errorf("%s depends on %s, which is not in the plan", n.ID, d)
			}
		}
	}
	if p.PkgNode != "" && p.Node(p.PkgNode) == nil {
		return fmt.Errorf("pkg_node %s is not in the plan", p.PkgNode)
	}
	if len(p.Order) != len(p.Ports) {
		return fmt.Errorf("order lists %d nodes, the plan has %d", len(p.Order), len(p.Ports))
	}
	pos := make(map[string]int, len(p.Order))
	for i, id := range p.Order {
		if p.Node(id) == nil {
			return fmt.Errorf("order names %s, which is not in the plan", id)
		}
		if _, dup := pos[id]; dup {
			return fmt.Errorf("order names %s twice", id)
		}
		pos[id] = i
	}
	for i := range p.Ports {
		n := &p.Ports[i]
		for _, d := range allDeps(n) {
			if pos[d] >= pos[n.ID] {
				return fmt.Errorf("order builds %s before its dependency %s (a cycle?)", n.ID, d)
			}
		}
	}
	return nil
}
