package plan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Change is one pinned input of a plan that no longer matches.
type Change struct {
	// Kind is "port" (port directory content), "missing" (port directory
	// gone), "options" (options file), "framework" (Mk), or "environment"
	// (make variables, stand-ins or system_dir identity).
	Kind string `json:"kind"`
	// Node is the node ID concerned, "" for tree-wide changes.
	Node string `json:"node,omitempty"`
	// Detail says what changed.
	Detail string `json:"detail"`
}

func (c Change) String() string {
	if c.Node != "" {
		return c.Node + ": " + c.Detail
	}
	return c.Detail
}

// Verify re-checks the inputs a plan pinned against the current ports tree
// and host without running make: the Mk framework hash, the environment
// (variables, stand-ins, system_dir identity, recomputed from the plan's
// embedded profile), and for every node its port directory hash and CRC
// and its options file. It returns every change found, sorted (empty when
// the plan is still valid); the error is for I/O problems and
// cancellation only. apply calls it (through execute.VerifyPlan) before
// building, and refuses the plan when it finds changes.
func Verify(ctx context.Context, p *Plan) ([]Change, error) {
	var changes []Change
	mk := filepath.Join(p.Tree.Path, "Mk")
	mkHash := hashFields()
	if _, err := os.Stat(mk); err == nil {
		h, err := HashTree(mk)
		if err != nil {
			return nil, err
		}
		mkHash = h.SHA256
	}
	if mkHash != p.Tree.MkHash {
		changes = append(changes, Change{Kind: "framework", Detail: fmt.Sprintf("Mk framework changed (%s)", mk)})
	}
	env, err := ResolveEnvironment(&p.Settings)
	if err != nil {
		return nil, err
	}
	if env.Key != p.Environment.Key {
		for _, k := range sortedKeys(union(env.Vars, p.Environment.Vars)) {
			o, ok1 := p.Environment.Vars[k]
			n, ok2 := env.Vars[k]
			switch {
			case !ok2:
				changes = append(changes, Change{Kind: "environment", Detail: fmt.Sprintf("%s unset (was %q)", k, o)})
			case !ok1:
				changes = append(changes, Change{Kind: "environment", Detail: fmt.Sprintf("%s=%q set", k, n)})
			case o != n:
				changes = append(changes, Change{Kind: "environment", Detail: fmt.Sprintf("%s changed from %q to %q", k, o, n)})
			}
		}
		if env.SystemID != p.Environment.SystemID {
			changes = append(changes, Change{Kind: "environment", Detail: fmt.Sprintf("system_dir %s changed", p.Settings.SystemDir)})
		}
	}

	var mu sync.Mutex
	var firstErr error
	idx := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				c, err := verifyNode(p, &p.Ports[i])
				mu.Lock()
				changes = append(changes, c...)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for i := range p.Ports {
		if ctx.Err() != nil {
			break
		}
		idx <- i
	}
	close(idx)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	sort.SliceStable(changes, func(i, j int) bool {
		if changes[i].Node != changes[j].Node {
			return changes[i].Node < changes[j].Node
		}
		return changes[i].Kind < changes[j].Kind
	})
	return changes, nil
}

// verifyNode checks one node's port directory and options file.
func verifyNode(p *Plan, n *Node) ([]Change, error) {
	dir := filepath.Join(p.Tree.Path, filepath.FromSlash(n.Origin))
	var out []Change
	if _, err := os.Stat(filepath.Join(dir, "Makefile")); err != nil {
		if n.Action == ActionFailed && n.PortHash == "" {
			return nil, nil // planned as missing, still missing
		}
		return []Change{{Kind: "missing", Node: n.ID, Detail: "port directory " + dir + " is gone"}}, nil
	}
	if n.Action == ActionFailed && n.PortHash == "" {
		return []Change{{Kind: "port", Node: n.ID, Detail: "port directory " + dir + " appeared (it was missing)"}}, nil
	}
	h, err := hashDir(dir, n.Origin, nil)
	if err != nil {
		return nil, err
	}
	if h.SHA256 != n.PortHash {
		out = append(out, Change{Kind: "port", Node: n.ID,
			Detail: fmt.Sprintf("port directory changed (crc32 %s -> %s)", n.CRC32, CRCString(h.CRC32))})
	}
	for _, rel := range sortedKeys(n.External) {
		full := filepath.Join(p.Tree.Path, filepath.FromSlash(rel))
		if strings.HasSuffix(rel, "/") {
			full += string(filepath.Separator)
		}
		h, err := externalHash(full)
		if err != nil {
			return nil, err
		}
		if h != n.External[rel] {
			out = append(out, Change{Kind: "port", Node: n.ID, Detail: "included " + rel + " changed"})
		}
	}
	oh, err := hashFile(filepath.Join(p.Settings.OptionsDir, OptionsName(n.Origin), "options"))
	if err != nil {
		return nil, err
	}
	if oh != n.OptionsFileHash {
		out = append(out, Change{Kind: "options", Node: n.ID, Detail: "options file changed"})
	}
	return out, nil
}

func union(a, b map[string]string) map[string]string {
	m := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}
