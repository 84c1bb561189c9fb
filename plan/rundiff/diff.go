package rundiff

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/record"
)

// Input kinds of a Change, in the order they are reported.
const (
	InputPort        = "port"         // port directory content (CRC32)
	InputOptions     = "options"      // selected options, option variables, options file
	InputMakeConf    = "make.conf"    // the profile's make.conf, the port's make_env
	InputFramework   = "framework"    // the Mk framework
	InputEnvironment = "environment"  // stand-ins, environment.env, system identity
	InputDependency  = "dependencies" // dependency set and the dependencies' input keys
	InputInstalled   = "installed"    // dependency packages installed before the build
)

var inputOrder = map[string]int{InputPort: 0, InputOptions: 1, InputMakeConf: 2, InputFramework: 3,
	InputEnvironment: 4, InputDependency: 5, InputInstalled: 6}

// Change is one input that differs.
type Change struct {
	Input  string `json:"input"`
	Detail string `json:"detail"`
}

// Side is one run with its plan, attempts and packages.
type Side struct {
	Run      *record.Run
	Plan     *plan.Plan
	Attempts map[string]*record.Attempt
	Packages map[string]NodePackage
}

// RunPlan reads run id ("last", an ID or a unique prefix) and decodes
// its stored plan.
func RunPlan(db *record.DB, id string) (*record.Run, *plan.Plan, error) {
	r, err := db.Run(id)
	if err != nil {
		return nil, nil, err
	}
	if len(r.Plan) == 0 {
		return nil, nil, fmt.Errorf("run %s has no stored plan", r.ID)
	}
	f, err := planfile.Decode(r.Plan)
	if err != nil {
		return nil, nil, fmt.Errorf("plan of run %s: %w", r.ID, err)
	}
	return r, f.Plan(), nil
}

// Load reads run id ("last", an ID or a unique prefix) with its stored
// plan and attempts.
func Load(db *record.DB, id string) (*Side, error) {
	r, p, err := RunPlan(db, id)
	if err != nil {
		return nil, err
	}
	atts, err := db.RunAttempts(r.ID)
	if err != nil {
		return nil, err
	}
	s := &Side{Run: r, Plan: p, Attempts: map[string]*record.Attempt{}}
	for _, a := range atts {
		s.Attempts[a.NodeID] = a
	}
	if s.Packages, err = NodePackages(db, p, r); err != nil {
		return nil, err
	}
	return s, nil
}

// RunInfo identifies a compared run.
type RunInfo struct {
	ID         string    `json:"id"`
	Profile    string    `json:"profile"`
	Start      time.Time `json:"start"`
	Status     string    `json:"status"`
	PlanDigest string    `json:"plan_digest"`
	Commit     string    `json:"commit,omitempty"`
	ReplayOf   string    `json:"replay_of,omitempty"`
}

// Port is what changed for one port present in both runs.
type Port struct {
	Node   string   `json:"node"`
	Inputs []Change `json:"inputs,omitempty"`
	// Version, Outcome, Duration and Package of run A and run B. Outcome
	// is the attempt status ("" when the run has no attempt for it),
	// Package the package's SHA-256.
	VersionA  string        `json:"version_a"`
	VersionB  string        `json:"version_b"`
	OutcomeA  string        `json:"outcome_a"`
	OutcomeB  string        `json:"outcome_b"`
	DurationA time.Duration `json:"duration_a_ns"`
	DurationB time.Duration `json:"duration_b_ns"`
	PackageA  string        `json:"package_a,omitempty"`
	PackageB  string        `json:"package_b,omitempty"`
}

// InputNames lists the kinds of the port's differing inputs.
func (p *Port) InputNames() []string {
	var out []string
	for _, c := range p.Inputs {
		if len(out) == 0 || out[len(out)-1] != c.Input {
			out = append(out, c.Input)
		}
	}
	return out
}

// Diff is the comparison of run A with run B.
type Diff struct {
	A RunInfo `json:"a"`
	B RunInfo `json:"b"`
	// Added and Removed are the nodes only in B and only in A.
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	// Tree lists tree-wide changes (commit, framework, environment and
	// make.conf variables), shown once; ports name them by kind.
	Tree []Change `json:"tree"`
	// Ports are the ports of both runs with a changed input, version,
	// outcome or package, sorted by node ID.
	Ports []Port `json:"ports"`
	// Unchanged counts the ports of both runs with nothing to report.
	Unchanged int `json:"unchanged"`
}

func info(s *Side) RunInfo {
	return RunInfo{ID: s.Run.ID, Profile: s.Run.ProfileName, Start: s.Run.Start, Status: s.Run.Status,
		PlanDigest: s.Run.PlanDigest, Commit: s.Plan.Tree.GitCommit, ReplayOf: s.Run.ReplayOf}
}

// Compare returns what changed from run a to run b.
func Compare(a, b *Side) *Diff {
	d := &Diff{A: info(a), B: info(b), Added: []string{}, Removed: []string{}, Tree: []Change{}, Ports: []Port{}}
	pa, pb := a.Plan, b.Plan
	if pa.Tree.GitCommit != pb.Tree.GitCommit {
		d.Tree = append(d.Tree, Change{"tree", fmt.Sprintf("commit %s -> %s", orNone(pa.Tree.GitCommit), orNone(pb.Tree.GitCommit))})
	}
	if pa.Tree.MkHash != pb.Tree.MkHash {
		d.Tree = append(d.Tree, Change{InputFramework, "Mk framework changed"})
	}
	envA, envB := envVars(pa), envVars(pb)
	envChanged := mapChanges(envA, envB)
	for _, c := range envChanged {
		d.Tree = append(d.Tree, Change{InputEnvironment, c})
	}
	sysChanged := pa.Environment.SystemID != pb.Environment.SystemID
	if sysChanged {
		d.Tree = append(d.Tree, Change{InputEnvironment, "system identity (system_dir) changed"})
	}
	mcChanged := mapChanges(pa.Settings.MakeConf, pb.Settings.MakeConf)
	for _, c := range mcChanged {
		d.Tree = append(d.Tree, Change{InputMakeConf, c})
	}

	for i := range pa.Ports {
		if pb.Node(pa.Ports[i].ID) == nil {
			d.Removed = append(d.Removed, pa.Ports[i].ID)
		}
	}
	for i := range pb.Ports {
		nb := &pb.Ports[i]
		na := pa.Node(nb.ID)
		if na == nil {
			d.Added = append(d.Added, nb.ID)
			continue
		}
		p := Port{Node: nb.ID, VersionA: na.Version, VersionB: nb.Version}
		add := func(input, format string, args ...any) {
			p.Inputs = append(p.Inputs, Change{input, fmt.Sprintf(format, args...)})
		}
		if na.PortHash != nb.PortHash || na.Flavor != nb.Flavor {
			add(InputPort, "crc32 %s -> %s", na.CRC32, nb.CRC32)
		}
		if s := optionChanges(na, nb); s != "" {
			add(InputOptions, "%s", s)
		}
		for _, c := range mapChanges(na.OptionsEnv, nb.OptionsEnv) {
			add(InputOptions, "%s", c)
		}
		if na.OptionsFileHash != nb.OptionsFileHash {
			add(InputOptions, "options file changed")
		}
		if len(mcChanged) > 0 {
			add(InputMakeConf, "make.conf: %s", strings.Join(mcChanged, "; "))
		}
		for _, c := range mapChanges(na.MakeEnv, nb.MakeEnv) {
			add(InputMakeConf, "make_env %s", c)
		}
		if pa.Tree.MkHash != pb.Tree.MkHash {
			add(InputFramework, "Mk framework changed")
		}
		if len(envChanged) > 0 || sysChanged {
			add(InputEnvironment, "environment identity changed")
		}
		for _, c := range depChanges(pa, pb, na, nb) {
			add(InputDependency, "%s", c)
		}
		at, bt := a.Attempts[nb.ID], b.Attempts[nb.ID]
		if at != nil && bt != nil && len(at.DepsInstalled)+len(bt.DepsInstalled) > 0 && built(at) && built(bt) {
			if c := listChanges(at.DepsInstalled, bt.DepsInstalled); c != "" {
				add(InputInstalled, "%s", c)
			}
		}
		if at != nil {
			p.OutcomeA, p.DurationA = at.Status, at.Duration()
		}
		if bt != nil {
			p.OutcomeB, p.DurationB = bt.Status, bt.Duration()
		}
		p.PackageA, p.PackageB = a.Packages[nb.ID].SHA256, b.Packages[nb.ID].SHA256
		sort.SliceStable(p.Inputs, func(i, j int) bool { return inputOrder[p.Inputs[i].Input] < inputOrder[p.Inputs[j].Input] })
		if len(p.Inputs) > 0 || p.VersionA != p.VersionB || p.OutcomeA != p.OutcomeB || p.PackageA != p.PackageB {
			d.Ports = append(d.Ports, p)
		} else {
			d.Unchanged++
		}
	}
	sort.Strings(d.Removed)
	return d
}

// built is true for attempts that ran the build (their installed
// dependencies are known).
func built(a *record.Attempt) bool {
	return a.Status == record.AttemptSuccess || a.Status == record.AttemptFailed
}

// envVars are the environment identity variables of p: Environment.Vars
// without the make.conf variables (reported as make.conf), unless
// environment.env overrides them.
func envVars(p *plan.Plan) map[string]string {
	m := map[string]string{}
	for k, v := range p.Environment.Vars {
		if _, mc := p.Settings.MakeConf[k]; mc {
			if _, ov := p.Settings.Environment.Env[k]; !ov {
				continue
			}
		}
		m[k] = v
	}
	return m
}

// mapChanges describes the differences between two variable maps, sorted.
func mapChanges(a, b map[string]string) []string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		va, oka := a[k]
		vb, okb := b[k]
		switch {
		case !oka:
			out = append(out, fmt.Sprintf("%s=%q set", k, vb))
		case !okb:
			out = append(out, fmt.Sprintf("%s unset (was %q)", k, va))
		case va != vb:
			out = append(out, fmt.Sprintf("%s %q -> %q", k, va, vb))
		}
	}
	sort.Strings(out)
	return out
}

// optionChanges describes the options switched on (+) and off (-).
func optionChanges(a, b *plan.Node) string {
	onA, onB := set(a.SelectedOptions), set(b.SelectedOptions)
	var out []string
	for _, o := range b.SelectedOptions {
		if !onA[o] {
			out = append(out, "+"+o)
		}
	}
	for _, o := range a.SelectedOptions {
		if !onB[o] {
			out = append(out, "-"+o)
		}
	}
	if len(out) == 0 && strings.Join(a.DeselectedOptions, " ") != strings.Join(b.DeselectedOptions, " ") {
		out = append(out, fmt.Sprintf("deselected %v -> %v", a.DeselectedOptions, b.DeselectedOptions))
	}
	sort.Slice(out, func(i, j int) bool { return out[i][1:] < out[j][1:] })
	return strings.Join(out, " ")
}

// depChanges names dependencies added, removed, or with another input key.
func depChanges(pa, pb *plan.Plan, a, b *plan.Node) []string {
	return setChanges(deps(a), deps(b), func(id string) string {
		x, y := pa.Node(id), pb.Node(id)
		if x != nil && y != nil && x.InputKey != y.InputKey {
			return id + " input key changed"
		}
		return ""
	})
}

// setChanges lists the members only in b (+x), only in a (-x), and what
// same says of the members of both (when not ""), in member order.
func setChanges(a, b map[string]bool, same func(string) string) []string {
	var out []string
	for _, x := range sortedKeys(a, b) {
		switch {
		case !a[x]:
			out = append(out, "+"+x)
		case !b[x]:
			out = append(out, "-"+x)
		default:
			if s := same(x); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func deps(n *plan.Node) map[string]bool {
	m := map[string]bool{}
	for _, l := range n.Deps {
		for _, d := range l {
			if d != n.ID {
				m[d] = true
			}
		}
	}
	return m
}

func sortedKeys(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if !a[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// listChanges describes two lists as "-x +y" ("" when equal as sets).
func listChanges(a, b []string) string {
	return strings.Join(setChanges(set(a), set(b), func(string) string { return "" }), " ")
}

func set(l []string) map[string]bool {
	m := make(map[string]bool, len(l))
	for _, x := range l {
		m[x] = true
	}
	return m
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s[:min(12, len(s))]
}
