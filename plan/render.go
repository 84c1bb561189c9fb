package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Symbol returns the one-character mark of a node in human output:
// + new, ~ rebuild, = up to date, x failed, ! ignored, - skipped.
func Symbol(n *Node) string {
	switch n.Action {
	case ActionBuild:
		if n.Reason == ReasonNew {
			return "+"
		}
		return "~"
	case ActionSkip:
		return "="
	case ActionIgnored:
		return "!"
	case ActionSkipped:
		return "-"
	case ActionFailed:
		return "x"
	}
	return "?"
}

// RenderHuman writes one line per node (sorted by ID) with its symbol,
// package name and reason, then the summary line, like `terraform plan`.
func RenderHuman(w io.Writer, p *Plan) error {
	return renderHuman(w, p, true)
}

// RenderChanges is RenderHuman listing only what changes: nodes to build
// (new or changed), failed, ignored and skipped ones. Up-to-date nodes
// are counted in one line instead.
func RenderChanges(w io.Writer, p *Plan) error {
	return renderHuman(w, p, false)
}

func renderHuman(w io.Writer, p *Plan, all bool) error {
	width, hidden := 0, 0
	for i := range p.Ports {
		if all || p.Ports[i].Action != ActionSkip {
			width = max(width, len(p.Ports[i].ID))
		}
	}
	var b strings.Builder
	for i := range p.Ports {
		n := &p.Ports[i]
		if !all && n.Action == ActionSkip {
			hidden++
			continue
		}
		pkg := n.PkgName
		if n.Meta {
			pkg += " (meta)"
		}
		reason := n.Reason
		switch n.Action {
		case ActionIgnored:
			reason = "ignored: " + reason
		case ActionFailed:
			reason = "failed: " + reason
		}
		fmt.Fprintf(&b, "  %s %-*s  %-24s %s\n", Symbol(n), width, n.ID, pkg, reason)
	}
	if hidden > 0 {
		fmt.Fprintf(&b, "  (%d up to date, not listed: -verbose lists them)\n", hidden)
	}
	if len(p.Ports) > 0 {
		b.WriteString("\n")
	}
	b.WriteString(Summarize(p).String())
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Colors of graph nodes by symbol.
var graphColors = map[string]string{
	"+": "palegreen",
	"~": "gold",
	"=": "lightgray",
	"!": "tomato",
	"-": "orange",
	"x": "red",
}

// RenderDOT writes the dependency graph in Graphviz DOT: one node per port
// coloured by action, one edge from each port to each dependency, labelled
// with the dependency kinds.
func RenderDOT(w io.Writer, p *Plan) error {
	var b strings.Builder
	b.WriteString("digraph dsynth {\n  rankdir=LR;\n  node [shape=box, style=filled, fontname=\"Helvetica\"];\n")
	for i := range p.Ports {
		n := &p.Ports[i]
		fmt.Fprintf(&b, "  %q [label=%q, fillcolor=%q, tooltip=%q];\n", n.ID,
			n.ID+"\n"+n.PkgName, graphColors[Symbol(n)], string(n.Action)+": "+n.Reason)
	}
	for _, e := range Edges(p) {
		fmt.Fprintf(&b, "  %q -> %q [label=%q];\n", e.From, e.To, strings.Join(e.Kinds, ","))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Edge is a dependency of From on To through the given kinds.
type Edge struct {
	From  string   `json:"from"`
	To    string   `json:"to"`
	Kinds []string `json:"kinds"`
}

// Edges lists every dependency edge, sorted by From then To, kinds in
// phase order.
func Edges(p *Plan) []Edge {
	var out []Edge
	for i := range p.Ports {
		n := &p.Ports[i]
		kinds := map[string][]string{}
		for _, k := range DepKinds {
			for _, d := range n.Deps[k] {
				kinds[d] = append(kinds[d], string(k))
			}
		}
		for _, d := range sortedKeys(kinds) {
			out = append(out, Edge{From: n.ID, To: d, Kinds: kinds[d]})
		}
	}
	return out
}

// GraphNode is a node of the JSON graph.
type GraphNode struct {
	ID     string `json:"id"`
	Action Action `json:"action"`
	Reason string `json:"reason"`
	Color  string `json:"color"`
}

// RenderGraphJSON writes {"nodes": [...], "edges": [...]}.
func RenderGraphJSON(w io.Writer, p *Plan) error {
	g := struct {
		Nodes []GraphNode `json:"nodes"`
		Edges []Edge      `json:"edges"`
	}{Nodes: []GraphNode{}, Edges: Edges(p)}
	for i := range p.Ports {
		n := &p.Ports[i]
		g.Nodes = append(g.Nodes, GraphNode{ID: n.ID, Action: n.Action, Reason: n.Reason, Color: graphColors[Symbol(n)]})
	}
	if g.Edges == nil {
		g.Edges = []Edge{}
	}
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
