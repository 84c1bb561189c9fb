package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/go-dsynth/dsynth/plan/portscan"
	"github.com/go-dsynth/dsynth/record"
	"github.com/go-dsynth/dsynth/spec"
)

// PkgOrigin is the origin of the package manager every build needs first.
const PkgOrigin = "ports-mgmt/pkg"

// scanVersion changes whenever the cached metadata format or the scan
// method changes, invalidating every portcache entry.
const scanVersion = "dsynth-portscan-5"

// defaultPath is the PATH of scan make processes unless environment.env
// sets one.
const defaultPath = "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"

// Store is what the planner reads from and writes to the records: the
// port metadata cache, the package hash cache, the input components, which
// of those entries each profile's plans use, and the package records.
// *record.Snapshot and *record.DB implement it.
type Store interface {
	// Scan returns the port metadata cached under a scan key (nil when
	// there is none; the bytes are the caller's) and whether profile's
	// plans already use that entry for scan (origin@flavor).
	Scan(profile, scan, key string) ([]byte, bool, error)
	// PackageHash returns the cached hex SHA-256 of a package file (""
	// when there is none) and whether profile's plans already use it.
	PackageHash(profile string, f record.PackageFile) (string, bool, error)
	// HasInputs reports whether the components of an input key are
	// stored; Inputs returns them (nil when they are not).
	HasInputs(key string) (bool, error)
	Inputs(key string) ([]byte, error)
	// UpdateCache adds a plan's new entries and uses.
	UpdateCache(u *record.CacheUpdate) error
	Packages() (map[string]record.Package, error)
	CRCIndex() (map[string]record.CRCEntry, error)
}

// Options configure Create.
type Options struct {
	// Profile is the resolved profile; ProfileSource its file's text.
	Profile       *spec.Profile
	ProfileSource []byte
	// DB is the records database: the port metadata cache (read and
	// written) and the package records (read). nil plans without cache
	// and treats every port as new. Callers pass a record.Snapshot so
	// that a long scan never holds the database's lock (a *record.DB
	// works too).
	DB Store
	// Force lists origins (meaning their default flavor, as everywhere)
	// or node IDs (origin@flavor) to build even when up to date; ForceAll
	// forces every buildable node.
	Force    []string
	ForceAll bool
	// KeepGoing plans even when an explicit target (not "all") cannot be
	// built because it, or a dependency, failed to plan. Without it,
	// Create returns the plan together with an *ErrorList of those
	// failures. Failed nodes are in the plan either way, and with "all"
	// one failed port never fails the plan.
	KeepGoing bool
	// Jobs bounds concurrent make processes (default runtime.NumCPU()).
	Jobs int
	// DsynthVersion is recorded in the plan.
	DsynthVersion string
}

// Stats describe what Create did.
type Stats struct {
	// Nodes in the plan; Loads of port metadata; MakeRuns the make
	// processes run (cache misses); CacheHits the loads served from the
	// records database (by a reused plan: the loads its memo saved).
	Nodes, Loads, MakeRuns, CacheHits int
	// Reused is true when the plan is the profile's last plan, taken
	// from its memo because nothing it was made from changed; Checked
	// counts the paths that check stat'ed, Reread those of its units
	// read again by content (changed or too recent a stat).
	Reused          bool
	Checked, Reread int
	// FromMemo counts the loads (of CacheHits) taken from the last
	// plan's memo: ports whose directory, options and external inputs
	// did not change, planned with the same settings.
	FromMemo int
	// NotReused says why the profile's last plan was not reused, when
	// there was one: which of its keys changed ("the framework, settings
	// changed"), which ports and other inputs.
	NotReused string
}

// scanned is what load knows of a port while it loads: its make variables
// and what they were computed from.
type scanned struct {
	vars map[string]string
	// ext maps the absolute paths of inputs outside the port directory
	// (makefiles read from elsewhere, the MASTERDIR of a slave port) to
	// their hashes.
	ext     map[string]string
	dir     DirHash
	optHash string
	optEnv  map[string]string
	makeEnv map[string]string
	bad     []*BadDependError
}

// loaded is the Loader payload of a node: its node without dependencies
// (see newNode) and its dependency problems; not the scan (some 40 make
// variables per port, garbage once the node is made).
type loaded struct {
	node *Node
	bad  []*BadDependError
}

type creator struct {
	opt     Options
	p       *Settings
	env     Environment
	tree    Tree
	makeCmd string
	// hostEnv is HostMakeEnv, asked once per plan.
	hostEnv []string

	// mu guards pending, what this plan adds to the records' cache and
	// has not written yet (new entries, and the uses that changed: which
	// entry this profile now uses for a port scan or a package), and
	// pendingBytes, the size of its values.
	mu           sync.Mutex
	pending      record.CacheUpdate
	pendingBytes int
	// writeMu makes the cache writes one at a time; writeErr is the
	// first that failed.
	writeMu  sync.Mutex
	writeErr error
	makeRuns atomic.Int64
	hits     atomic.Int64
	// envID is the plan's environment identity (see envIdentity);
	// names its by-name components, made when decide first needs them.
	envID string
	names *names
	// hashes memoizes hashes of external files and directories by path.
	hashes sync.Map
	// strs holds the strings the plan interns (see intern).
	strs sync.Map
	// defaultNode maps a scanned origin to its default flavor's node ID.
	defaultNode map[string]string
	// obs collects what the plan is made from, for its memo (nil: no
	// memo); reuse holds the loads the memo has for it, by reuseKey.
	obs      *observer
	reuse    map[string]*reusedLoad
	fromMemo atomic.Int64
	// notReused says why the last plan was not reused ("" when there
	// was none, or it was).
	notReused string
}

// Create scans the ports tree of opt.Profile, resolves the dependency
// graph, computes CRCs and input keys and decides an action for every
// node. A port that cannot be planned (missing, make failure, unknown
// flavor, malformed dependency, unsafe package name, cycle) becomes an
// ActionFailed node and its dependents are skipped; the rest plans. When
// such failures keep an explicit target from being built and
// opt.KeepGoing is false, Create returns the plan and an *ErrorList of
// them together. The only write to the records database is the metadata
// cache.
func Create(ctx context.Context, opt Options) (*Plan, *Stats, error) {
	if opt.Profile == nil {
		return nil, nil, fmt.Errorf("plan: no profile")
	}
	settings := SettingsOf(opt.Profile)
	p := &settings
	// A missing ports tree is said to be so, not reported as every
	// target port missing.
	if st, err := os.Stat(p.PortsDir); err != nil {
		return nil, nil, fmt.Errorf("profile %s: ports_dir %s: %w", p.Name, p.PortsDir, err)
	} else if !st.IsDir() {
		return nil, nil, fmt.Errorf("profile %s: ports_dir %s is not a directory", p.Name, p.PortsDir)
	}
	env, err := ResolveEnvironment(p)
	if err != nil {
		return nil, nil, err
	}
	tree, err := TreeIdentity(ctx, p.PortsDir)
	if err != nil {
		return nil, nil, err
	}
	hostEnv := HostMakeEnv()
	newCreator := func() *creator {
		return &creator{opt: opt, p: p, env: env, tree: tree, makeCmd: MakeCommand(p), hostEnv: hostEnv,
			pending: record.CacheUpdate{Profile: p.Name}, defaultNode: map[string]string{}}
	}
	c := newCreator()
	m, err := c.openMemo()
	if err != nil {
		return nil, nil, err
	}
	if m == nil {
		return c.create(ctx)
	}
	pl, st, err := m.reuse(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	// DSYNTH_PLAN_MEMO=check: what came from the memo must be what a
	// fresh plan makes.
	check := func(pl *Plan, what string) error {
		if os.Getenv(memoEnv) != "check" {
			return nil
		}
		fresh, _, err := newCreator().create(ctx)
		if err != nil {
			return fmt.Errorf("plan memo check: %w", err)
		}
		if d := memoDiff(pl, fresh); d != "" {
			return fmt.Errorf("plan memo check: %s differs from a fresh one: %s", what, d)
		}
		return nil
	}
	if pl != nil {
		if err := check(pl, "the reused plan"); err != nil {
			return nil, nil, err
		}
		return pl, st, nil
	}
	c.obs = newObserver(filepath.Dir(m.path))
	defer c.obs.close()
	pl, st, err = c.create(ctx)
	if err == nil && st.FromMemo > 0 {
		if err := check(pl, fmt.Sprintf("the plan made with %d loads of the memo", st.FromMemo)); err != nil {
			return nil, nil, err
		}
	}
	if err == nil {
		// A memo is a cache: failing to write one fails nothing.
		_ = m.save(c, pl, st)
	}
	return pl, st, err
}

// create makes the plan (Create without its memo).
func (c *creator) create(ctx context.Context) (*Plan, *Stats, error) {
	opt, p, tree, env := c.opt, c.p, c.tree, c.env
	roots, err := c.roots()
	if err != nil {
		return nil, nil, err
	}
	cfg := portscan.Config{Jobs: opt.Jobs, Load: c.load}
	if len(p.Exclude) > 0 {
		cfg.SkipRoot = func(origin, flavor string) bool { return excludedBy(p.Exclude, origin, flavor) != "" }
	}
	res, err := portscan.Walk(ctx, cfg, roots)
	c.reuse = nil // taken: what the memo held is garbage now
	if err != nil {
		return nil, nil, err
	}
	st := &Stats{Nodes: len(res.Ports), Loads: res.Loads, MakeRuns: int(c.makeRuns.Load()), CacheHits: int(c.hits.Load()),
		FromMemo: int(c.fromMemo.Load()), NotReused: c.notReused}
	ids := make([]string, 0, len(res.Ports))
	for id := range res.Ports {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	// failures maps a node ID to its problems: a port that could not be
	// scanned, a flavor that does not exist, a malformed *_DEPENDS entry,
	// a dependency cycle. Each such node becomes an ActionFailed node and
	// the rest of the tree plans.
	failures := map[string][]error{}
	for _, e := range res.Errors {
		failures[e.ID()] = append(failures[e.ID()], e)
	}
	for _, id := range ids {
		for _, b := range res.Ports[id].Data.(*loaded).bad {
			failures[id] = append(failures[id], b)
		}
	}
	nodes := c.nodes(res, ids)
	for _, port := range res.Ports {
		if len(port.Flavors) == 0 || port.Flavor == port.Flavors[0] {
			c.defaultNode[port.Origin] = port.ID()
		}
	}
	for _, cyc := range findCycles(ids, nodes) {
		for _, m := range cyc.members {
			failures[m] = append(failures[m], cyc)
		}
	}
	// Excluded nodes a dependency brought in are ignored: never built,
	// whatever their scan said, and their own dependencies are cut.
	var excluded []string
	for _, e := range res.Errors {
		if excludedBy(p.Exclude, e.Ref.Origin, e.Ref.Flavor) != "" && nodes[e.ID()] == nil {
			n, err := c.failedNode(e)
			if err != nil {
				return nil, st, err
			}
			nodes[e.ID()] = n
			ids = append(ids, e.ID())
		}
	}
	for id, n := range nodes {
		if x := excludedBy(p.Exclude, n.Origin, n.Flavor); x != "" {
			n.Ignore = excludedReason(x)
			n.Deps = map[DepKind][]string{}
			delete(failures, id)
			excluded = append(excluded, id)
		}
	}
	for id, errs := range failures {
		n := nodes[id]
		if n == nil {
			var err error
			if n, err = c.failedNode(errs[0]); err != nil {
				return nil, st, err
			}
			nodes[id] = n
			ids = append(ids, id)
		}
		var why []string
		for _, e := range errs {
			why = append(why, failureReason(e))
		}
		n.Action, n.Reason = ActionFailed, strings.Join(why, "; ")
		n.Deps = map[DepKind][]string{} // cut: the order stays acyclic
	}
	sort.Strings(ids)
	if len(excluded) > 0 {
		// What only an excluded port needed is not planned.
		wanted := append([]string(nil), res.Roots...)
		for _, e := range res.Errors {
			if slices.Contains(e.From, portscan.FromTarget) {
				wanted = append(wanted, e.ID())
			}
		}
		if pk := c.defaultNode[PkgOrigin]; pk != "" {
			wanted = append(wanted, pk)
		}
		ids = prune(nodes, ids, wanted)
	}

	pl := &Plan{
		DsynthVersion: opt.DsynthVersion,
		Settings:      *p,
		ProfileSource: string(opt.ProfileSource),
		Tree:          tree,
		Environment:   env,
		Ports:         make([]Node, 0, len(ids)),
	}
	for _, id := range ids {
		pl.Ports = append(pl.Ports, *nodes[id])
		delete(nodes, id) // the copy is the node now: let the original go
	}
	// The originals (and the walk's results) are garbage now, a quarter
	// of the heap of a large tree. A collection now sets the next heap
	// goal from what is left; one that happened to run during the copy
	// would have let the heap grow from both copies (a warm 30,000-port
	// plan peaked 15 MB higher).
	if len(ids) >= largePlan {
		runtime.GC()
	}
	pl.Order = topoOrder(pl)
	if pl.Node(PkgOrigin) != nil {
		pl.PkgNode = PkgOrigin
	} else {
		for i := range pl.Ports {
			if pl.Ports[i].Origin == PkgOrigin {
				pl.PkgNode = pl.Ports[i].ID
				break
			}
		}
	}
	c.envID = envIdentity(p, env)
	err = computeKeys(pl, c.envID, func(key string, in *Inputs) error {
		// An input key names its components: one already stored is
		// the same, and a warm plan writes nothing.
		if opt.DB == nil {
			return nil
		}
		have, err := opt.DB.HasInputs(key)
		if err != nil || have {
			return err
		}
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode the inputs of %s: %w", key, err)
		}
		c.addCache(len(b), func(u *record.CacheUpdate) { setEntry(&u.Inputs, key, b) })
		return nil
	})
	if err != nil {
		return nil, st, err
	}
	causes, err := decide(ctx, pl, opt, c)
	if err != nil {
		return nil, st, err
	}
	setPriorities(pl)
	// Cache what was scanned even when a target failed: the next attempt
	// after a fix re-runs make only where needed.
	if err := c.flushCache(); err != nil {
		return nil, st, err
	}
	if !opt.KeepGoing {
		if errs := c.targetFailures(pl, causes, failures); len(errs) > 0 {
			return pl, st, &ErrorList{Errs: errs}
		}
	}
	return pl, st, nil
}

// failedNode makes the node of a port that could not be scanned: its
// origin and flavor and, when its directory exists, its hashes (so that
// Verify notices a fix).
func (c *creator) failedNode(err error) (*Node, error) {
	var se *portscan.Error
	if !errors.As(err, &se) {
		return nil, err
	}
	n := &Node{ID: se.ID(), Origin: se.Ref.Origin, Flavor: se.Ref.Flavor, Deps: map[DepKind][]string{}}
	dir := c.portDir(n.Origin)
	if fi, err := os.Stat(filepath.Join(dir, "Makefile")); err == nil && fi.Mode().IsRegular() {
		dh, oh, err := c.hashPort(dir, n.Origin)
		if err != nil {
			return nil, err
		}
		n.PortHash, n.CRC32, n.OptionsFileHash = dh.SHA256, CRCString(dh.CRC32), oh
	} else {
		c.obs.stat(filepath.Join(dir, "Makefile"))
	}
	return n, nil
}

// hashPort hashes the port directory dir of origin and its options file
// (the options file hash is "" when there is none), for the plan's memo
// too.
func (c *creator) hashPort(dir, origin string) (DirHash, string, error) {
	var names *[]string
	if c.obs != nil {
		names = new([]string)
	}
	dh, err := hashDir(dir, origin, names)
	if err != nil {
		c.obs.fail()
		return DirHash{}, "", err
	}
	optHash, err := hashFile(c.optionsFile(origin))
	if err != nil {
		c.obs.fail()
		return DirHash{}, "", fmt.Errorf("options of %s: %w", origin, err)
	}
	if names != nil {
		c.obs.add(memoUnit{Kind: unitPort, Label: origin, Names: strings.Join((*names)[1:], "\n"), Hash: dh.SHA256, OptHash: optHash})
	}
	return dh, optHash, nil
}

// targetFailures returns the problems that keep an explicit target (not
// "all") from being built: its own when it failed, those of the failed
// nodes it depends on when it is skipped. An ignored dependency is not a
// planning failure.
func (c *creator) targetFailures(pl *Plan, causes map[string][]string, failures map[string][]error) []error {
	var out []error
	seen := map[string]bool{}
	for _, t := range c.p.Targets {
		if t == AllPorts {
			continue
		}
		for _, id := range c.targetIDs(pl, t) {
			for _, cause := range causes[id] {
				if seen[cause] || pl.Node(cause).Action != ActionFailed {
					continue
				}
				seen[cause] = true
				out = append(out, failures[cause]...)
			}
		}
	}
	return out
}

// targetIDs returns the node IDs an explicit target names.
func (c *creator) targetIDs(pl *Plan, t string) []string {
	r := portscan.ParseRef(portscan.NormalizeOrigin(t, c.p.PortsDir))
	if r.Flavor == portscan.AllFlavors {
		var out []string
		for i := range pl.Ports {
			if pl.Ports[i].Origin == r.Origin {
				out = append(out, pl.Ports[i].ID)
			}
		}
		return out
	}
	if r.Flavor == "" {
		if d, ok := c.defaultNode[r.Origin]; ok {
			return []string{d}
		}
		return []string{r.Origin}
	}
	if pl.Node(r.String()) == nil && pl.Node(r.Origin) != nil {
		return []string{r.Origin} // the origin itself failed
	}
	return []string{r.String()}
}

// MakeCommand is the make program of a profile: make_command, or "make"
// on BSD and "bmake" elsewhere.
func MakeCommand(p *Settings) string {
	if p.MakeCommand != "" {
		return p.MakeCommand
	}
	switch runtime.GOOS {
	case "freebsd", "dragonfly", "netbsd", "openbsd":
		return "make"
	}
	return "bmake"
}

// roots returns the refs to scan: the targets ("all" = every port of the
// tree, in every flavor unless all_flavors is false) and ports-mgmt/pkg
// when the tree has it. Targets the profile excludes are left out (an
// excluded origin@flavor is left out by the walk, once flavors are known).
func (c *creator) roots() ([]portscan.Ref, error) {
	var refs []portscan.Ref
	all := false
	for _, t := range c.p.Targets {
		if t == AllPorts {
			all = true
			continue
		}
		r := portscan.ParseRef(portscan.NormalizeOrigin(t, c.p.PortsDir))
		if r.Flavor == portscan.AllFlavors || excludedBy(c.p.Exclude, r.Origin, r.Flavor) == "" {
			refs = append(refs, r)
		}
	}
	if all {
		origins, err := listPorts(c.p.PortsDir, c.obs)
		if err != nil {
			return nil, err
		}
		for _, o := range origins {
			if excludedBy(c.p.Exclude, o, "") != "" {
				continue
			}
			r := portscan.Ref{Origin: o}
			if c.p.AllFlavors {
				r.Flavor = portscan.AllFlavors
			}
			refs = append(refs, r)
		}
	}
	pkgMakefile := filepath.Join(c.p.PortsDir, PkgOrigin, "Makefile")
	c.obs.stat(pkgMakefile)
	if fi, err := os.Stat(pkgMakefile); err == nil && !fi.IsDir() {
		refs = append(refs, portscan.Ref{Origin: PkgOrigin})
	}
	return refs, nil
}

// ListPorts returns every category/port of the tree that has a Makefile,
// sorted. Top-level directories starting with an upper-case letter (Mk,
// Tools, Templates, ...) or a dot are not categories.
func ListPorts(portsDir string) ([]string, error) { return listPorts(portsDir, nil) }

// listPorts is ListPorts, telling obs what the list depends on: the
// directories it read and the Makefiles it did not find.
func listPorts(portsDir string, obs *observer) (out []string, err error) {
	var read []string // what the list depends on, for obs
	if obs != nil {
		read = []string{}
		defer func() {
			if err == nil {
				obs.add(memoUnit{Kind: unitListing, Path: portsDir, Names: strings.Join(read, "\n"), Hash: hashFields(out...)})
			}
		}()
	}
	cats, err := os.ReadDir(portsDir)
	if err != nil {
		return nil, fmt.Errorf("list ports: %w", err)
	}
	for _, cat := range cats {
		n := cat.Name()
		if !cat.IsDir() || n == "" || n[0] == '.' || (n[0] >= 'A' && n[0] <= 'Z') || n == "distfiles" || n == "packages" {
			continue
		}
		if obs != nil {
			read = append(read, n)
		}
		ports, err := os.ReadDir(filepath.Join(portsDir, n))
		if err != nil {
			return nil, fmt.Errorf("list ports: %w", err)
		}
		for _, pd := range ports {
			if !pd.IsDir() || strings.HasPrefix(pd.Name(), ".") {
				continue
			}
			mf := filepath.Join(portsDir, n, pd.Name(), "Makefile")
			if fi, err := os.Stat(mf); err == nil && fi.Mode().IsRegular() {
				out = append(out, n+"/"+pd.Name())
			} else if obs != nil {
				read = append(read, n+"/"+pd.Name()+"/Makefile")
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// TreeIdentity identifies the ports tree at dir: the Mk framework hash and,
// when dir is the top of a git checkout, its HEAD commit and dirty flag.
func TreeIdentity(ctx context.Context, dir string) (Tree, error) {
	t := Tree{Path: dir, SourceDateEpoch: DefaultSourceDateEpoch}
	mk := filepath.Join(dir, "Mk")
	if _, err := os.Stat(mk); err == nil {
		h, err := HashTree(mk)
		if err != nil {
			return t, fmt.Errorf("ports tree %s: %w", dir, err)
		}
		t.MkHash = h.SHA256
	} else {
		t.MkHash = hashFields()
	}
	top, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return t, nil // not a git checkout (or no git)
	}
	real1, _ := filepath.EvalSymlinks(strings.TrimSpace(string(top)))
	real2, _ := filepath.EvalSymlinks(dir)
	if real1 == "" || real1 != real2 {
		return t, nil // inside a bigger repository: its commit says nothing about the tree
	}
	head, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return t, nil // no commit yet
	}
	t.GitCommit = strings.TrimSpace(string(head))
	t.SourceDateEpoch = CommitTime(ctx, dir, t.GitCommit)
	st, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain").Output()
	if err != nil {
		return t, fmt.Errorf("ports tree %s: git status: %w", dir, err)
	}
	t.GitDirty = len(strings.TrimSpace(string(st))) > 0
	return t, nil
}

// optionsFile returns the options file of origin.
func (c *creator) optionsFile(origin string) string {
	return filepath.Join(c.p.OptionsDir, OptionsName(origin), "options")
}

// portDir returns the host directory of origin.
func (c *creator) portDir(origin string) string {
	return filepath.Join(c.p.PortsDir, filepath.FromSlash(origin))
}

// load is the portscan.Loader: hash the port directory, then take its
// metadata from the cache or from make.
func (c *creator) load(ctx context.Context, origin, flavor string) (*portscan.Port, error) {
	if r := c.reuse[reuseKey(origin, flavor)]; r != nil {
		return c.reused(r), nil
	}
	dir := c.portDir(origin)
	if fi, err := os.Stat(filepath.Join(dir, "Makefile")); err != nil || !fi.Mode().IsRegular() {
		c.obs.stat(filepath.Join(dir, "Makefile"))
		return nil, fmt.Errorf("%s: %w", dir, portscan.ErrMissingPort)
	}
	dh, optHash, err := c.hashPort(dir, origin)
	if err != nil {
		return nil, err
	}
	s := &scanned{dir: dh, optHash: optHash}
	s.optEnv, s.makeEnv = portSettings(c.p, origin, flavor)
	if err := c.query(ctx, origin, flavor, s); err != nil {
		return nil, err
	}
	flavors := strings.Fields(s.vars["FLAVORS"])
	for i := range flavors {
		flavors[i] = c.intern(flavors[i])
	}
	resolved := flavor
	if flavor == "" && len(flavors) > 0 {
		resolved = flavors[0]
		// A port block for origin@default changes this scan's inputs.
		o2, m2 := portSettings(c.p, origin, resolved)
		if hashMap(o2) != hashMap(s.optEnv) || hashMap(m2) != hashMap(s.makeEnv) {
			s.optEnv, s.makeEnv = o2, m2
			if err := c.query(ctx, origin, resolved, s); err != nil {
				return nil, err
			}
		}
	}
	if err := checkPackageNames(s.vars); err != nil {
		return nil, err // the scan error names the port
	}
	port := &portscan.Port{Origin: origin, Flavor: resolved, Flavors: flavors}
	id := port.ID()
	var all [][]portscan.Dep
	n := 0
	for _, k := range DepKinds {
		if k == DepTest && !c.p.Tests {
			continue
		}
		v := depVars[k]
		deps, bad := portscan.ParseDepends(v, s.vars[v], c.p.PortsDir)
		all = append(all, deps)
		n += len(deps)
		for _, b := range bad {
			s.bad = append(s.bad, &BadDependError{Node: id, Var: v, Entry: b})
		}
	}
	// The walk keeps every port's dependencies: in one slice of their
	// size, interned (the values of a make run are parts of its whole
	// output, and of a cache entry).
	port.Deps = make([]portscan.Dep, 0, n)
	for _, deps := range all {
		for _, d := range deps {
			d.Ref.Origin, d.Ref.Flavor = c.intern(d.Ref.Origin), c.intern(d.Ref.Flavor)
			port.Deps = append(port.Deps, d)
		}
	}
	port.Data = &loaded{node: c.newNode(port, s), bad: s.bad}
	if c.obs != nil {
		// Copies, not parts of a cache entry (they would keep all of
		// it): the external paths interned, as most ports share them.
		l := memoLoad{Origin: origin, Flavor: flavor, ID: id, Flavors: port.Flavors, Deps: port.Deps}
		for _, b := range s.bad {
			l.Bad = append(l.Bad, BadDependError{Node: b.Node, Var: b.Var, Entry: strings.Clone(b.Entry)})
		}
		for p := range s.ext {
			l.Ext = append(l.Ext, c.intern(p))
		}
		c.obs.load(l)
	}
	return port, nil
}

// reused is the port of a load taken from the memo, telling the next
// memo what it was made from, as load does.
func (c *creator) reused(r *reusedLoad) *portscan.Port {
	l := r.load
	c.hits.Add(1)
	c.fromMemo.Add(1)
	c.obs.add(*r.unit)
	for _, e := range r.ext {
		c.hashes.LoadOrStore(e.Path, e.Hash)
	}
	deps, _ := unpackDeps(l.PackedDeps, c.intern) // checked by reusable
	port := &portscan.Port{Origin: r.node.Origin, Flavor: r.node.Flavor, Flavors: make([]string, len(l.Flavors)),
		Deps: deps}
	for i, f := range l.Flavors {
		port.Flavors[i] = c.intern(f)
	}
	for i, d := range port.Deps {
		if v, ok := depVars[kindOfVar(d.Var)]; ok {
			port.Deps[i].Var = v
		}
	}
	// The next memo keeps this load as load would have made it.
	kept := memoLoad{Origin: port.Origin, Flavor: l.Flavor, ID: r.node.ID, Flavors: port.Flavors, Bad: l.Bad, Deps: port.Deps}
	for _, e := range r.ext {
		kept.Ext = append(kept.Ext, e.Path)
	}
	c.obs.load(kept)
	ld := &loaded{node: r.node}
	for i := range l.Bad {
		ld.bad = append(ld.bad, &l.Bad[i])
	}
	port.Data = ld
	return port
}

// intern returns the one copy of x this plan keeps.
func (c *creator) intern(x string) string {
	if x == "" {
		return ""
	}
	if v, ok := c.strs.Load(x); ok {
		return v.(string)
	}
	k := strings.Clone(x)
	v, _ := c.strs.LoadOrStore(k, k)
	return v.(string)
}

func depVar(k DepKind) string { return strings.ToUpper(string(k)) + "_DEPENDS" }

// depVars maps each kind to its variable (one string each, shared by every
// dependency the walk keeps).
var depVars = func() map[DepKind]string {
	m := map[DepKind]string{}
	for _, k := range DepKinds {
		m[k] = depVar(k)
	}
	return m
}()

func kindOfVar(v string) DepKind {
	for k, kv := range depVars {
		if kv == v {
			return k
		}
	}
	return DepKind(strings.ToLower(strings.TrimSuffix(v, "_DEPENDS")))
}

// query sets s.vars and s.ext to the make -V values of origin/flavor with
// s's settings, from the cache when its key is there and the external
// inputs it recorded are unchanged.
func (c *creator) query(ctx context.Context, origin, flavor string, s *scanned) error {
	env := c.env.MakeEnv(&Node{OptionsEnv: s.optEnv, MakeEnv: s.makeEnv},
		Paths{PortsDir: c.p.PortsDir, OptionsDir: c.p.OptionsDir})
	key := hashFields(scanVersion, c.makeCmd, origin, flavor, s.dir.SHA256, c.tree.MkHash,
		s.optHash, c.env.SystemID, strings.Join(env, "\x00"))
	use := origin + "@" + flavor
	used := false
	if c.opt.DB != nil {
		b, u, err := c.opt.DB.Scan(c.p.Name, use, key)
		if err != nil {
			return fmt.Errorf("scan %s: %w", use, err)
		}
		used = u
		if vars, ext, ok := decodeScan(b); b != nil && ok && c.extValid(ext) {
			c.hits.Add(1)
			s.vars, s.ext = vars, ext
			if !used {
				c.addCache(0, func(u *record.CacheUpdate) { setEntry(&u.ScanUses, use, key) })
			}
			return nil
		}
	}
	if _, ok := c.p.Environment.Env["PATH"]; !ok {
		env = append(env, "PATH="+defaultPath)
	}
	for _, kv := range c.hostEnv {
		if _, set := c.p.Environment.Env[kv[:strings.IndexByte(kv, '=')]]; !set {
			env = append(env, kv)
		}
	}
	c.makeRuns.Add(1)
	dir := c.portDir(origin)
	vars, err := portscan.Query(ctx, c.makeCmd, dir, flavor, env)
	if err != nil {
		c.obs.fail() // it may not fail again
		return err
	}
	ext, err := c.externals(dir, vars)
	if err != nil {
		c.obs.fail()
		return fmt.Errorf("scan %s: %w", origin, err)
	}
	s.vars, s.ext = vars, ext
	if c.opt.DB != nil {
		b := encodeScan(vars, ext)
		c.addCache(len(b), func(u *record.CacheUpdate) {
			setEntry(&u.Scans, key, b)
			if !used {
				setEntry(&u.ScanUses, use, key)
			}
		})
	}
	return nil
}

// largePlan is the number of nodes from which Create collects garbage
// itself once the walk's results are no longer needed.
const largePlan = 5000

// flushBytes is the size of new cache entries a plan holds before it
// writes them (during the scan): a cold plan of 30,000 ports makes about
// 125 MB of them.
var flushBytes = 4 << 20

// addCache adds to the pending cache update (add sets what it adds, of n
// value bytes) and writes it once it holds flushBytes. A use is added
// only when the records say otherwise (the write replaces the entry the
// profile used before, which the records then drop unless another use
// names it), so a warm plan of an unchanged tree writes nothing.
func (c *creator) addCache(n int, add func(*record.CacheUpdate)) {
	c.mu.Lock()
	add(&c.pending)
	c.pendingBytes += n
	if c.pendingBytes < flushBytes {
		c.mu.Unlock()
		return
	}
	u := c.takePending()
	c.mu.Unlock()
	c.writeCache(u)
}

// takePending returns the pending update and starts a new one; c.mu held.
func (c *creator) takePending() *record.CacheUpdate {
	u := c.pending
	c.pending, c.pendingBytes = record.CacheUpdate{Profile: c.p.Name}, 0
	return &u
}

// writeCache writes u; a failure is kept for flushCache to return (the
// scan goes on: the plan does not depend on the write).
func (c *creator) writeCache(u *record.CacheUpdate) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.writeErr != nil || u.Len() == 0 {
		return
	}
	c.writeErr = c.opt.DB.UpdateCache(u)
}

// setEntry sets (*m)[k] = v, making the map when needed.
func setEntry[V any](m *map[string]V, k string, v V) {
	if *m == nil {
		*m = map[string]V{}
	}
	(*m)[k] = v
}

// externals returns the inputs of a scan outside the port directory: the
// makefiles make read (.MAKE.MAKEFILES) except the port's own, the Mk
// framework's (MkHash covers them) and the options file (hashed on its
// own), plus MASTERDIR when it is another directory.
func (c *creator) externals(dir string, vars map[string]string) (map[string]string, error) {
	var ext map[string]string
	add := func(p, h string) {
		if ext == nil {
			ext = map[string]string{}
		}
		ext[p] = h
	}
	master := ""
	if md := vars["MASTERDIR"]; md != "" && filepath.IsAbs(md) && filepath.Clean(md) != dir {
		master = filepath.Clean(md)
		h, err := c.extHash(master + string(filepath.Separator))
		if err != nil {
			return nil, err
		}
		add(master+string(filepath.Separator), h)
	}
	mk := filepath.Join(c.p.PortsDir, "Mk")
	for _, f := range strings.Fields(vars[".MAKE.MAKEFILES"]) {
		if !filepath.IsAbs(f) {
			continue // relative to the port directory
		}
		f = filepath.Clean(f)
		if under(f, dir) || under(f, mk) || (master != "" && under(f, master)) ||
			(c.p.OptionsDir != "" && under(f, c.p.OptionsDir)) {
			continue
		}
		h, err := c.extHash(f)
		if err != nil {
			return nil, err
		}
		add(f, h)
	}
	return ext, nil
}

// extHash hashes an external input: a directory when p ends in a
// separator, else a file ("-" when it does not exist). Memoized per plan.
func (c *creator) extHash(p string) (string, error) {
	if v, ok := c.hashes.Load(p); ok {
		return v.(string), nil
	}
	h, err := externalHash(p)
	if err != nil {
		return "", err
	}
	c.hashes.Store(strings.Clone(p), h)
	return h, nil
}

func externalHash(p string) (string, error) {
	if strings.HasSuffix(p, string(filepath.Separator)) {
		if _, err := os.Stat(p); os.IsNotExist(err) {
			return "-", nil
		}
		d, err := HashTree(p)
		return d.SHA256, err
	}
	h, err := hashFile(p)
	if h == "" && err == nil {
		h = "-"
	}
	return h, err
}

// extValid reports whether every recorded external input still hashes the
// same.
func (c *creator) extValid(ext map[string]string) bool {
	for p, h := range ext {
		cur, err := c.extHash(p)
		if err != nil || cur != h {
			return false
		}
	}
	return true
}

func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}

// nodeExternal keeps the external inputs under the ports tree, by path
// relative to it (directories end in "/"); files elsewhere (the host's
// sys.mk, make.conf) only guard the cache.
func nodeExternal(portsDir string, ext map[string]string) map[string]string {
	var out map[string]string
	for p, h := range ext {
		if !under(p, portsDir) {
			continue
		}
		rel, err := filepath.Rel(portsDir, p)
		if err != nil {
			continue
		}
		rel = filepath.ToSlash(rel)
		if strings.HasSuffix(p, string(filepath.Separator)) {
			rel += "/"
		}
		if out == nil {
			out = map[string]string{}
		}
		out[strings.Clone(rel)] = strings.Clone(h) // not parts of a cache entry
	}
	return out
}

// nodeFiles is Node.Files: the port directory's files (packed as
// DirHash.Files) followed by its external inputs under the ports tree,
// each as "/" and its tree-relative path (a directory ends in "/").
func nodeFiles(own string, ext map[string]string) string {
	if len(ext) == 0 {
		return own
	}
	m := make(map[string]string, len(ext))
	for p, h := range ext {
		m["/"+p] = h[:min(len(h), 16)]
	}
	return own + packNames(m)
}

// flushCache writes what is pending and returns the first write error of
// the plan.
func (c *creator) flushCache() error {
	if c.opt.DB == nil {
		return nil
	}
	c.mu.Lock()
	u := c.takePending()
	c.mu.Unlock()
	c.writeCache(u)
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.writeErr
}

// nodes turns scan results into plan nodes (without keys or decisions).
func (c *creator) nodes(res *portscan.Result, ids []string) map[string]*Node {
	out := make(map[string]*Node, len(ids))
	for _, id := range ids {
		port := res.Ports[id]
		n := port.Data.(*loaded).node
		depIDs := res.DepIDs[id]
		for i, d := range port.Deps {
			if depIDs[i] == "" {
				continue
			}
			k := kindOfVar(d.Var)
			n.Deps[k] = append(n.Deps[k], depIDs[i])
		}
		for k, l := range n.Deps {
			n.Deps[k] = uniqSorted(l)
		}
		out[id] = n
	}
	return out
}

// newNode makes the node of a loaded port from its scan, without its
// dependencies (the walk resolves them). It runs as each port loads, so
// that a large tree's scan results (some 40 make variables per port) are
// not all held until the walk ends: the node keeps copies of the few
// values it needs.
func (c *creator) newNode(port *portscan.Port, s *scanned) *Node {
	v := s.vars
	n := &Node{
		ID:              port.ID(),
		Origin:          port.Origin,
		Flavor:          port.Flavor,
		PkgName:         strings.Clone(v["PKGNAME"]),
		Version:         strings.Clone(v["PKGVERSION"]),
		CRC32:           CRCString(s.dir.CRC32),
		PortHash:        s.dir.SHA256,
		OptionsFileHash: s.optHash,
		Deps:            map[DepKind][]string{},
		OptionsEnv:      s.optEnv,
		MakeEnv:         s.makeEnv,
		DistSubdir:      strings.Clone(v["DIST_SUBDIR"]),
		External:        nodeExternal(c.p.PortsDir, s.ext),
	}
	n.Files = nodeFiles(s.dir.Files, n.External)
	recipe := c.recipe(v)
	n.RecipeHash = hashMap(recipe)
	n.Recipe = packNames(recipe)
	if v["PKGFILE"] != "" {
		n.PkgFile = strings.Clone(path.Base(v["PKGFILE"]))
	}
	n.SelectedOptions = sortedFields(v["SELECTED_OPTIONS"])
	n.DeselectedOptions = sortedFields(v["DESELECTED_OPTIONS"])
	n.Distfiles = sortedFields(v["ALLFILES"])
	n.MakeJobs, _ = strconv.Atoi(v["MAKE_JOBS_NUMBER"])
	for _, u := range strings.Fields(v["USES"]) {
		if u == "metaport" || strings.HasPrefix(u, "metaport:") {
			n.Meta = true
			n.PkgFile = ""
		}
	}
	n.Ignore = strings.Clone(v["IGNORE"])
	if n.Ignore == "" && v["BROKEN"] != "" {
		n.Ignore = "is marked as broken: " + v["BROKEN"]
	}
	return n
}

// recipe is what of the framework a node's input key covers, per name:
// with the default policy the hash of each recipe variable's value (the
// ports tree's path written as ${PORTSDIR}, so that a moved tree rebuilds
// nothing); with rebuild = "makefiles" the content hash of every Mk file
// the port's evaluation read (Mk/...). Changed names are the rebuild's
// cause.
func (c *creator) recipe(v map[string]string) map[string]string {
	out := map[string]string{}
	if c.p.Rebuild == RebuildMakefiles {
		mk := filepath.Join(c.p.PortsDir, "Mk")
		for _, f := range strings.Fields(v[".MAKE.MAKEFILES"]) {
			f = filepath.Clean(f)
			if !filepath.IsAbs(f) || !under(f, mk) {
				continue
			}
			h, err := c.extHash(f)
			if err != nil {
				h = "-"
			}
			rel, _ := filepath.Rel(c.p.PortsDir, f)
			out[filepath.ToSlash(rel)] = h[:min(len(h), 16)]
		}
		return out
	}
	for _, k := range portscan.RecipeVars {
		val := strings.ReplaceAll(v[k], c.p.PortsDir, "${PORTSDIR}")
		if val == "" {
			continue
		}
		h := sha256.Sum256([]byte(val))
		out[k] = hex.EncodeToString(h[:8])
	}
	return out
}

// sortedFields returns the words of s, sorted and unique (copies: they
// do not keep s).
func sortedFields(s string) []string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil
	}
	f = uniqSorted(f)
	for i := range f {
		f[i] = strings.Clone(f[i])
	}
	return f
}

// allDeps returns every dependency ID of n, sorted and unique.
func allDeps(n *Node) []string {
	var out []string
	for _, l := range n.Deps {
		out = append(out, l...)
	}
	return uniqSorted(out)
}

// checkPackageNames refuses package names and versions that are unsafe as
// file names under packages_dir or as text on the terminal: empty, with a
// control character, invalid UTF-8 or a slash; a name that is "." or "..",
// starts with a dot (a hidden file) or with "-" (read as an option by the
// tools given the file). Anything else the framework makes is accepted: a
// version may start with a dot (FreeBSD's science/nec2c has PORTVERSION=
// .9, so PKGVERSION ".9_2" and PKGNAME "nec2c-.9_2").
func checkPackageNames(vars map[string]string) error {
	if err := checkText("PKGVERSION", vars["PKGVERSION"]); err != nil {
		return err
	}
	if err := checkFileName("PKGNAME", vars["PKGNAME"]); err != nil {
		return err
	}
	if f := vars["PKGFILE"]; f != "" {
		if err := checkFileName("PKGFILE", path.Base(f)); err != nil {
			return err
		}
	}
	return nil
}

// checkText refuses an empty value, a control character, invalid UTF-8
// and a slash.
func checkText(name, x string) error {
	why := ""
	switch {
	case x == "":
		why = "is empty"
	case strings.IndexFunc(x, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) >= 0:
		why = "has a control character"
	case !utf8.ValidString(x):
		why = "is not valid UTF-8"
	case strings.Contains(x, "/"):
		why = "has a slash"
	}
	if why != "" {
		return fmt.Errorf("%s %q %s: not a valid package name or version", name, x, why)
	}
	return nil
}

// checkFileName is checkText for a value that becomes a file name.
func checkFileName(name, x string) error {
	if err := checkText(name, x); err != nil {
		return err
	}
	why := ""
	switch {
	case x == "." || x == "..":
		why = "is a directory name"
	case strings.HasPrefix(x, "."):
		why = "starts with a dot (a hidden file under packages_dir)"
	case strings.HasPrefix(x, "-"):
		why = `starts with "-" (an option to the tools given the file)`
	}
	if why != "" {
		return fmt.Errorf("%s %q %s: not a valid package name", name, x, why)
	}
	return nil
}
