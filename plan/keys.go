package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
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
	// Files is the node's Files (the port's files and external inputs
	// with their checksums), so that a later plan can say which file
	// changed. Not part of the key (Port covers it).
	Files string `json:"files,omitempty"`
	// OptionNames, MakeConfNames and EnvNames are what Options,
	// MakeConf and Environment cover, by name (packed as packNames
	// does: each option "on" or "off", each variable a short hash of
	// its value), so that a later plan can name the options and
	// variables that changed. Not part of the key.
	OptionNames   string `json:"option_names,omitempty"`
	MakeConfNames string `json:"make_conf_names,omitempty"`
	EnvNames      string `json:"env_names,omitempty"`
	// Environment hashes the stand-ins, environment.env, package suffix
	// and system_dir identity.
	Environment string `json:"environment"`
	// Deps maps each dependency ID to its input key.
	Deps map[string]string `json:"deps"`
}

// Key is the input key: hex SHA-256 of the canonical JSON of in.
func (in *Inputs) Key() string {
	c := *in
	c.Recipe, c.Files, c.OptionNames, c.MakeConfNames, c.EnvNames = "", "", "", "", ""
	b, _ := json.Marshal(&c)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// envIdentity hashes the environment without the make.conf variables
// (they are the MakeConf component), unless environment.env overrides
// them.
func envIdentity(p *Settings, e Environment) string {
	return hashFields(hashMap(envVars(p, e)), e.SystemID)
}

// envVars are the environment variables the Environment component
// covers (see envIdentity).
func envVars(p *Settings, e Environment) map[string]string {
	m := map[string]string{}
	for k, v := range e.Vars {
		if _, mc := p.MakeConf[k]; mc {
			if _, ov := p.Environment.Env[k]; !ov {
				continue
			}
		}
		m[k] = v
	}
	return m
}

// shortHashes maps each key of m, prefixed, to a short hash of its value.
func shortHashes(m map[string]string, prefix string, out map[string]string) map[string]string {
	if out == nil {
		out = make(map[string]string, len(m))
	}
	for k, v := range m {
		h := sha256.Sum256([]byte(v))
		out[prefix+k] = hex.EncodeToString(h[:6])
	}
	return out
}

// names are the by-name components shared by every node of a plan.
type names struct {
	makeConf, env string
}

func planNames(p *Settings, e Environment) names {
	env := shortHashes(envVars(p, e), "", nil)
	if e.SystemID != "" {
		env["system_dir"] = e.SystemID[:min(len(e.SystemID), 12)]
	}
	return names{makeConf: packNames(shortHashes(p.MakeConf, "", nil)), env: packNames(env)}
}

// optionNames is Inputs.OptionNames: each selected option "on", each
// deselected one "off", each option variable from the profile
// ("env VAR") and the options file ("options file") a short hash.
func optionNames(n *Node) string {
	m := make(map[string]string, len(n.SelectedOptions)+len(n.DeselectedOptions)+len(n.OptionsEnv)+1)
	for _, o := range n.SelectedOptions {
		m[o] = "on"
	}
	for _, o := range n.DeselectedOptions {
		m[o] = "off"
	}
	shortHashes(n.OptionsEnv, "env ", m)
	if n.OptionsFileHash != "" {
		m["options file"] = n.OptionsFileHash[:min(len(n.OptionsFileHash), 12)]
	}
	return packNames(m)
}

// nodeInputs returns n's input components given its dependencies' keys.
func nodeInputs(p *Settings, mkHash, envID string, nm names, n *Node, keys map[string]string) *Inputs {
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
		Files:       n.Files,
		OptionNames: optionNames(n),
		EnvNames:    nm.env,
		Environment: envID,
		Deps:        map[string]string{},
	}
	in.MakeConfNames = nm.makeConf
	if len(n.MakeEnv) > 0 {
		in.MakeConfNames += packNames(shortHashes(n.MakeEnv, "make_env ", nil))
	}
	deps := allDeps(n)
	if n.RecipeHash != "" {
		in.Framework, in.Recipe = hashFields(p.Rebuild, n.RecipeHash), n.Recipe
		if p.Rebuild != RebuildMakefiles {
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

// computeKeys sets every node's InputKey, in build order, calling each
// (when not nil) with each node's components as they are made: a large
// plan does not keep them all (nodeComponents makes one again).
func computeKeys(pl *Plan, envID string, each func(key string, in *Inputs) error) error {
	nm := planNames(&pl.Settings, pl.Environment)
	keys := make(map[string]string, len(pl.Ports))
	for _, id := range pl.Order {
		n := pl.Node(id)
		in := nodeInputs(&pl.Settings, pl.Tree.MkHash, envID, nm, n, keys)
		n.InputKey = in.Key()
		keys[id] = n.InputKey
		if each != nil {
			if err := each(n.InputKey, in); err != nil {
				return err
			}
		}
	}
	return nil
}

// nodeComponents returns n's input components, once computeKeys has set
// the keys of pl.
func nodeComponents(pl *Plan, envID string, nm names, n *Node) *Inputs {
	keys := map[string]string{}
	for _, d := range allDeps(n) {
		if dn := pl.Node(d); dn != nil {
			keys[d] = dn.InputKey
		}
	}
	return nodeInputs(&pl.Settings, pl.Tree.MkHash, envID, nm, n, keys)
}

// changedComponents names what differs between old and cur, in a fixed
// order, for the port origin. dep, when not nil, says how a changed
// dependency changed (see changedDeps).
func changedComponents(old, cur *Inputs, origin string, dep func(id string) string) []string {
	var r []string
	if old.Port != cur.Port || old.Flavor != cur.Flavor {
		files := ""
		if old.Port != cur.Port {
			files = changedFiles(old.Files, cur.Files, origin)
		}
		r = append(r, ReasonPortChanged+files)
	}
	if old.Options != cur.Options {
		r = append(r, ReasonOptionsChanged+changedOptions(unpackNames(old.OptionNames), unpackNames(cur.OptionNames)))
	}
	if old.MakeConf != cur.MakeConf {
		r = append(r, ReasonMakeConfChanged+changedNames(unpackNames(old.MakeConfNames), unpackNames(cur.MakeConfNames)))
	}
	// A recipe that changed because the port, its options, make.conf or
	// the environment did is explained by those; the framework is named
	// only when nothing of the port's own changed.
	if old.Framework != cur.Framework && len(r) == 0 && old.Environment == cur.Environment {
		r = append(r, ReasonFrameworkChanged+changedNames(unpackNames(old.Recipe), unpackNames(cur.Recipe)))
	}
	if old.Environment != cur.Environment {
		r = append(r, ReasonEnvironmentChanged+changedNames(unpackNames(old.EnvNames), unpackNames(cur.EnvNames)))
	}
	if d := changedDeps(old.Deps, cur.Deps, dep); d != "" {
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

// changedOptions lists, as " (+X11, -DOCS, env WITH_FOO, options file)",
// the options now on (+) or off (-), or gone, and the option variables
// and options file that changed; "" when either side is unknown.
func changedOptions(old, cur map[string]string) string {
	if old == nil || cur == nil {
		return ""
	}
	var names []string
	for k, v := range cur {
		if old[k] == v {
			continue
		}
		switch v {
		case "on":
			names = append(names, "+"+k)
		case "off":
			names = append(names, "-"+k)
		default:
			names = append(names, k)
		}
	}
	for k := range old {
		if _, ok := cur[k]; !ok {
			names = append(names, k+" removed")
		}
	}
	// The profile's option variables are how an option is set: once an
	// option is named, they are not.
	onOff := false
	for _, n := range names {
		onOff = onOff || n[0] == '+' || n[0] == '-'
	}
	if onOff {
		kept := names[:0]
		for _, n := range names {
			if !strings.HasPrefix(n, "env ") {
				kept = append(kept, n)
			}
		}
		names = kept
	}
	return nameList(names)
}

// changedFiles lists, as " (devel/foo/Makefile, Mk/Uses/x.mk)", the
// files of the port origin (and its external inputs) whose checksums
// differ between two Files lists, added and removed files included; ""
// when either is unknown or no listed file differs.
func changedFiles(old, cur, origin string) string {
	o, c := unpackNames(old), unpackNames(cur)
	if o == nil || c == nil {
		return ""
	}
	var names []string
	for k, v := range c {
		if ov, ok := o[k]; !ok {
			names = append(names, fileName(k, origin)+" added")
		} else if ov != v {
			names = append(names, fileName(k, origin))
		}
	}
	for k := range o {
		if _, ok := c[k]; !ok {
			names = append(names, fileName(k, origin)+" removed")
		}
	}
	return nameList(names)
}

// fileName is a Files entry's path in the ports tree.
func fileName(k, origin string) string {
	if strings.HasPrefix(k, "/") {
		return k[1:]
	}
	return origin + "/" + k
}

// changedDeps says which dependencies changed (their keys, or added or
// removed), "" when none did. how, when not nil, describes how a
// dependency whose key changed changed ("3.1 -> 3.2", "port changed");
// the descriptions are joined with "; " then.
func changedDeps(old, cur map[string]string, how func(id string) string) string {
	var names []string
	detailed := false
	for k, v := range cur {
		if ov, ok := old[k]; !ok {
			names = append(names, k+" added")
		} else if ov != v {
			if how != nil {
				if h := how(k); h != "" {
					names = append(names, k+": "+h)
					detailed = true
					continue
				}
			}
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
	if detailed {
		return nameListSep(names, "; ")
	}
	return nameList(names)
}

func nameList(names []string) string { return nameListSep(names, ", ") }

// nameListSep lists names, sorted, as " (a<sep>b)", naming at most five.
func nameListSep(names []string, sep string) string {
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	more := ""
	if len(names) > 5 {
		more = fmt.Sprintf("%sand %d more", sep, len(names)-5)
		if sep == ", " {
			more = fmt.Sprintf(" and %d more", len(names)-5)
		}
		names = names[:5]
	}
	return " (" + strings.Join(names, sep) + more + ")"
}

// packNames packs a name -> hash map as sorted "name=hash\n" lines.
func packNames(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := 0
	for _, k := range keys {
		n += len(k) + len(m[k]) + 2
	}
	var b strings.Builder
	b.Grow(n) // exactly: every node keeps two of these
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(m[k])
		b.WriteByte('\n')
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
		if i := strings.LastIndexByte(l, '='); i >= 0 {
			m[l[:i]] = l[i+1:] // the hash has no "=", a file name may
		}
	}
	return m
}
