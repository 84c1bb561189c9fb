package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/go-dsynth/dsynth/spec"
)

// Inputs are the components of a node's input key. They are stored in the
// records database (bucket inputs, keyed by input key) so that a later plan
// can say which component changed since the last successful build.
type Inputs struct {
	// Port is the port directory hash (Node.PortHash), combined with the
	// external inputs (Node.External) when there are any.
	Port string `json:"port"`
	// Flavor is the node's flavor.
	Flavor string `json:"flavor,omitempty"`
	// Options hashes the selected and deselected options, the option
	// variables from the profile and the options file.
	Options string `json:"options"`
	// MakeConf hashes the profile's make.conf and the port's make_env.
	MakeConf string `json:"make_conf"`
	// Framework is the framework's part: the hash of the node's Recipe, or
	// the whole Mk framework's hash for a node without one (old plans).
	Framework string `json:"framework"`
	// Recipe is the node's Recipe (per name), so that a later plan can
	// say which variable or makefile changed. Not part of the key
	// (Framework covers it).
	Recipe string `json:"recipe,omitempty"`
	// Environment hashes the stand-ins, environment.env, package suffix
	// and system_dir identity.
	Environment string `json:"environment"`
	// Deps maps each dependency ID to its input key.
	Deps map[string]string `json:"deps"`
}

// Key is the input key: hex SHA-256 of the canonical JSON of in.
func (in *Inputs) Key() string {
	c := *in
	c.Recipe = ""
	b, _ := json.Marshal(&c)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// envIdentity hashes the environment without the make.conf variables
// (they are the MakeConf component), unless environment.env overrides
// them.
func envIdentity(p *spec.Profile, e Environment) string {
	m := map[string]string{}
	for k, v := range e.Vars {
		if _, mc := p.MakeConf[k]; mc {
			if _, ov := p.Environment.Env[k]; !ov {
				continue
			}
		}
		m[k] = v
	}
	return hashFields(hashMap(m), e.SystemID)
}

// nodeInputs returns n's input components given its dependencies' keys.
func nodeInputs(p *spec.Profile, mkHash, envID string, n *Node, keys map[string]string) *Inputs {
	port := n.PortHash
	if len(n.External) > 0 {
		port = hashFields(n.PortHash, hashMap(n.External))
	}
	in := &Inputs{
		Port:        port,
		Flavor:      n.Flavor,
		Options:     hashFields(strings.Join(n.SelectedOptions, " "), strings.Join(n.DeselectedOptions, " "), hashMap(n.OptionsEnv), n.OptionsFileHash),
		MakeConf:    hashFields(hashMap(p.MakeConf), hashMap(n.MakeEnv)),
		Framework:   mkHash,
		Environment: envID,
		Deps:        map[string]string{},
	}
	deps := allDeps(n)
	if n.RecipeHash != "" {
		in.Framework, in.Recipe = hashFields(p.Rebuild, n.RecipeHash), n.Recipe
		if p.Rebuild != spec.RebuildMakefiles {
			// The default policy cascades as packages record their
			// dependencies: through library and run dependencies only.
			deps = uniqSorted(append(append([]string(nil), n.Deps[DepLib]...), n.Deps[DepRun]...))
		}
	}
	for _, d := range deps {
		in.Deps[d] = keys[d]
	}
	return in
}

// computeKeys sets every node's InputKey, in build order, and returns the
// components by key.
func computeKeys(pl *Plan, envID string) map[string]*Inputs {
	keys := make(map[string]string, len(pl.Ports))
	comps := make(map[string]*Inputs, len(pl.Ports))
	for _, id := range pl.Order {
		n := pl.Node(id)
		in := nodeInputs(&pl.Profile, pl.Tree.MkHash, envID, n, keys)
		n.InputKey = in.Key()
		keys[id] = n.InputKey
		comps[n.InputKey] = in
	}
	return comps
}

// changedComponents names what differs between old and cur, in a fixed
// order.
func changedComponents(old, cur *Inputs) []string {
	var r []string
	if old.Port != cur.Port || old.Flavor != cur.Flavor {
		r = append(r, ReasonPortChanged)
	}
	if old.Options != cur.Options {
		r = append(r, ReasonOptionsChanged)
	}
	if old.MakeConf != cur.MakeConf {
		r = append(r, ReasonMakeConfChanged)
	}
	// A recipe that changed because the port, its options, make.conf or
	// the environment did is explained by those; the framework is named
	// only when nothing of the port's own changed.
	if old.Framework != cur.Framework && len(r) == 0 && old.Environment == cur.Environment {
		r = append(r, ReasonFrameworkChanged+changedNames(unpackNames(old.Recipe), unpackNames(cur.Recipe)))
	}
	if old.Environment != cur.Environment {
		r = append(r, ReasonEnvironmentChanged)
	}
	if d := changedDeps(old.Deps, cur.Deps); d != "" {
		r = append(r, ReasonDependencyChanged+d)
	}
	return r
}

// changedNames lists, as " (A, B)", the names whose hashes differ between
// two recipes (added and removed names included), "" when either is
// unknown. At most five are named.
func changedNames(old, cur map[string]string) string {
	if old == nil || cur == nil {
		return ""
	}
	var names []string
	for k, v := range cur {
		if old[k] != v {
			names = append(names, k)
		}
	}
	for k := range old {
		if _, ok := cur[k]; !ok {
			names = append(names, k)
		}
	}
	return nameList(names)
}

// changedDeps says which dependencies changed (their keys, or added or
// removed), "" when none did.
func changedDeps(old, cur map[string]string) string {
	var names []string
	for k, v := range cur {
		if ov, ok := old[k]; !ok {
			names = append(names, k+" added")
		} else if ov != v {
			names = append(names, k)
		}
	}
	for k := range old {
		if _, ok := cur[k]; !ok {
			names = append(names, k+" removed")
		}
	}
	if len(names) == 0 {
		return ""
	}
	return nameList(names)
}

func nameList(names []string) string {
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	more := ""
	if len(names) > 5 {
		more = fmt.Sprintf(" and %d more", len(names)-5)
		names = names[:5]
	}
	return " (" + strings.Join(names, ", ") + more + ")"
}

// packNames packs a name -> hash map as sorted "name=hash\n" lines.
func packNames(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + m[k] + "\n")
	}
	return b.String()
}

// unpackNames undoes packNames (nil for "": unknown).
func unpackNames(s string) map[string]string {
	if s == "" {
		return nil
	}
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}
