package execute

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/plan"
)

// Slot is a prepared build environment (isolate.Slot satisfies it).
type Slot interface {
	Root() string
	Run(ctx context.Context, c isolate.Cmd) (status int, err error)
	Teardown() error
}

// Isolator prepares slots. The real one wraps isolate.Prepare with the
// plan's layout; tests use one that runs commands on the host.
type Isolator interface {
	// Prepare creates slot n (1-based, SL<NN>) whose only writable
	// package folder (/.npkg inside) is the host folder output.
	Prepare(ctx context.Context, n int, output string) (Slot, error)
	// Cleanup removes whatever a crashed run left in the build base.
	Cleanup() ([]string, error)
}

// Phases are the build phases in dsynth's order (check-plist is left out:
// not every framework has it). The test phase follows stage when the
// profile enables tests.
var Phases = []string{"check-sanity", "pkg-depends", "fetch-depends", "fetch", "checksum",
	"extract-depends", "extract", "patch-depends", "patch", "build-depends", "lib-depends",
	"configure", "build", "run-depends", "stage", "package"}

// fetchPhases get the network when the profile's network is "fetch".
var fetchPhases = map[string]bool{"fetch": true, "checksum": true}

// Paths inside a slot.
const (
	slotPorts     = "/xports"
	slotDistfiles = "/distfiles"
	slotWork      = "/construction"
	slotPackages  = "/packages"
	slotOutput    = isolate.TargetOutput
	slotCCache    = "/ccache"
	slotOptions   = "/options"
	slotLocalbase = "/usr/local"
	pkgStatic     = "/usr/local/sbin/pkg-static"
	slotPath      = "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"
	// stagingDir holds each slot's output folder (packages_dir/.building/
	// SL<NN>, the slot's /.npkg): under packages_dir, so that the finished
	// file is renamed into All/ atomically.
	stagingDir = ".building"
	// defaultSourceDateEpoch is used when the plan's environment does not
	// set SOURCE_DATE_EPOCH (1980-01-01, valid in every archive format).
	defaultSourceDateEpoch = "315532800"
)

// builder builds single ports of a plan in slots.
type builder struct {
	p        *plan.Plan
	nodes    map[string]*plan.Node
	iso      Isolator
	pkgNode  *plan.Node // nil when the tree has no ports-mgmt/pkg
	phases   []string
	logsDir  string
	pkgsDir  string
	progress func(worker int, id, phase string)
	sde      map[string]string // per-node SOURCE_DATE_EPOCH overrides
	// loadPerCPU scales the default watchdogs (nil: the host's load);
	// watchdogs replaces their table (nil: defaultIdle).
	loadPerCPU func() float64
	watchdogs  map[string]time.Duration
	// logTee receives a copy of every port log (a build host streams it
	// to its controller).
	logTee io.Writer
}

// PortResult is what building one port produced.
type PortResult struct {
	Outcome
	Phases        []PhaseTime
	DepsInstalled []string
	Env           []string
	MakeArgs      []string
	PkgFile       string
	Size          int64
	SHA256        string
	LogPath       string
	Start, End    time.Time
	// Fatal is set when the build environment itself failed (a slot could
	// not be prepared): the run stops.
	Fatal error
	// Host is the build host that built it ("" here).
	Host string
	// Lost are earlier attempts of this build that a build host lost (it
	// died or stopped answering) before another one built it.
	Lost []LostAttempt
}

// LostAttempt is a build attempt lost with its build host.
type LostAttempt struct {
	Host       string
	Phase      string
	Start, End time.Time
	Err        string
}

// PhaseTime is one phase of a port build.
type PhaseTime struct {
	Name       string
	Start, End time.Time
	Status     int
}

func newBuilder(p *plan.Plan, iso Isolator, sde map[string]string) *builder {
	b := &builder{p: p, iso: iso, nodes: map[string]*plan.Node{}, sde: sde,
		logsDir: p.Settings.LogsDir, pkgsDir: p.Settings.PackagesDir}
	for i := range p.Ports {
		n := &p.Ports[i]
		b.nodes[n.ID] = n
	}
	if p.PkgNode != "" {
		b.pkgNode = b.nodes[p.PkgNode]
	}
	b.phases = append([]string(nil), Phases...)
	if p.Settings.Tests {
		i := indexOf(b.phases, "stage")
		b.phases = append(b.phases[:i+1], append([]string{"test"}, b.phases[i+1:]...)...)
	}
	return b
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// buildKinds are the dependency kinds needed to build a port.
func (b *builder) buildKinds() []plan.DepKind {
	k := []plan.DepKind{plan.DepFetch, plan.DepExtract, plan.DepPatch, plan.DepBuild, plan.DepLib, plan.DepRun}
	if b.p.Settings.Tests {
		k = append(k, plan.DepTest)
	}
	return k
}

// directDeps are the nodes a port needs built before it (every kind
// needed for building), plus ports-mgmt/pkg.
func (b *builder) directDeps(n *plan.Node) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range b.buildKinds() {
		for _, d := range n.Deps[k] {
			if !seen[d] && d != n.ID {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	if b.pkgNode != nil && n.ID != b.pkgNode.ID && !seen[b.pkgNode.ID] {
		out = append(out, b.pkgNode.ID)
	}
	sort.Strings(out)
	return out
}

// installSet returns the dependency nodes to install before building n:
// its direct dependencies of every build kind plus their recursive LIB and
// RUN closure, dependencies first. Meta ports are walked through but not
// listed (they have no package); ports-mgmt/pkg is not listed (it is
// extracted separately).
func (b *builder) installSet(n *plan.Node) []*plan.Node { return b.installSetOf(n, b.buildKinds()) }

// installSetOf is installSet over the direct dependencies of the given
// kinds.
func (b *builder) installSetOf(n *plan.Node, kinds []plan.DepKind) []*plan.Node {
	var out []*plan.Node
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(id string)
	visit = func(id string) {
		if state[id] != 0 {
			return
		}
		state[id] = 1
		d := b.nodes[id]
		if d == nil {
			state[id] = 2
			return
		}
		for _, k := range []plan.DepKind{plan.DepLib, plan.DepRun} {
			for _, x := range d.Deps[k] {
				visit(x)
			}
		}
		state[id] = 2
		if !d.Meta && d.PkgFile != "" && (b.pkgNode == nil || d.ID != b.pkgNode.ID) {
			out = append(out, d)
		}
	}
	for _, k := range kinds {
		for _, id := range n.Deps[k] {
			if id != n.ID {
				visit(id)
			}
		}
	}
	return out
}

// LogName is the per-port log file name: <category>___<port>[@flavor].log.
func LogName(id string) string { return safeName(id) + ".log" }

// env is the worker environment of node n, sorted ("K=V"): the plan's
// make environment with the slot paths (stand-ins, make.conf,
// environment.env, option variables, make_env), then the worker's own
// variables.
func (b *builder) env(n *plan.Node) []string { return portEnv(b.p, b.sde, n) }

// portEnv is builder.env of plan p with the SOURCE_DATE_EPOCH overrides
// sde (may be nil).
func portEnv(p *plan.Plan, sde map[string]string, n *plan.Node) []string {
	m := map[string]string{}
	for _, e := range p.MakeEnv(n, plan.Paths{PortsDir: slotPorts, OptionsDir: slotOptions}) {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	prof := &p.Settings
	jobs := max(prof.Workers.MaxJobs, 1)
	if n.MakeJobs > 0 && n.MakeJobs < jobs {
		jobs = n.MakeJobs
	}
	// The host's uname answers spare bmake three uname runs per phase;
	// a slot shares the host's kernel, so they are what uname would say.
	for _, e := range plan.HostMakeEnv() {
		if k, v, _ := strings.Cut(e, "="); m[k] == "" {
			m[k] = v
		}
	}
	if _, ok := m["SOURCE_DATE_EPOCH"]; !ok {
		m["SOURCE_DATE_EPOCH"] = defaultSourceDateEpoch
		if t := p.Tree.SourceDateEpoch; t > 0 {
			m["SOURCE_DATE_EPOCH"] = strconv.FormatInt(t, 10)
		}
		if v, ok := sde[n.ID]; ok {
			m["SOURCE_DATE_EPOCH"] = v
		}
	}
	fixed := map[string]string{
		"PORTSDIR":         slotPorts,
		"DISTDIR":          slotDistfiles,
		"WRKDIRPREFIX":     slotWork,
		"PACKAGES":         slotOutput,
		"PORT_DBDIR":       slotOptions,
		"LOCALBASE":        slotLocalbase,
		"BATCH":            "yes",
		"MAKE_JOBS_NUMBER": strconv.Itoa(jobs),
		"TZ":               "UTC",
		"LC_ALL":           "C",
		"PATH":             slotPath,
		"HOME":             slotWork,
	}
	if prof.PackageSuffix != "" {
		fixed["PKG_SUFX"] = prof.PackageSuffix
	}
	if prof.Workers.CCacheDir != "" {
		// As poudriere: the framework puts its ccache wrappers first in
		// PATH when WITH_CCACHE_BUILD is set.
		fixed["WITH_CCACHE_BUILD"] = "yes"
		fixed["CCACHE_DIR"] = slotCCache
		if prof.Workers.CCacheSize > 0 {
			fixed["CCACHE_MAXSIZE"] = strconv.FormatInt(prof.Workers.CCacheSize, 10)
		}
	}
	for k, v := range fixed {
		m[k] = v
	}
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// safeName turns a node ID into a file name component.
func safeName(id string) string { return strings.ReplaceAll(id, "/", "___") }

func (b *builder) makeCommand() string { return plan.MakeCommand(&b.p.Settings) }

// syncWriter serialises writes and remembers when the last one happened.
type syncWriter struct {
	mu   sync.Mutex
	w    io.Writer
	last atomic.Int64 // unix nano
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last.Store(time.Now().UnixNano())
	return s.w.Write(p)
}

func (s *syncWriter) printf(format string, a ...any) {
	fmt.Fprintf(s, format, a...)
}

// roundLimit shows a limit to the second (to the millisecond below one).
func roundLimit(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}

// errTimeout marks a phase stopped by phase_timeout or idle_timeout.
type errTimeout struct{ msg string }

func (e *errTimeout) Error() string { return e.msg }

// runCmd runs argv (phase, described as what) in slot with the phase
// timeout and the phase's no-output watchdog, output to log.
func (b *builder) runCmd(ctx context.Context, slot Slot, log *syncWriter, argv, env []string, network bool, phase, what string) (int, error) {
	wk := &b.p.Settings.Workers
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if wk.PhaseTimeout > 0 {
		t := time.AfterFunc(wk.PhaseTimeout, func() {
			cancel(&errTimeout{fmt.Sprintf("phase timeout: %s ran longer than %s", what, wk.PhaseTimeout)})
		})
		defer t.Stop()
	}
	load := b.loadPerCPU
	if load == nil {
		load = hostLoadPerCPU
	}
	{
		log.last.Store(time.Now().UnixNano())
		tick := min(idleLimit(wk.IdleTimeout, b.watchdogs, phase, nil)/4, time.Second)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			tk := time.NewTicker(tick)
			defer tk.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tk.C:
					limit := idleLimit(wk.IdleTimeout, b.watchdogs, phase, load)
					if time.Since(time.Unix(0, log.last.Load())) > limit {
						how := "idle timeout"
						if wk.IdleTimeout == 0 {
							how = "watchdog"
						}
						cancel(&errTimeout{fmt.Sprintf("%s: %s printed nothing for %s", how, what, roundLimit(limit))})
						return
					}
				}
			}
		}()
	}
	st, err := slot.Run(cctx, isolate.Cmd{Argv: argv, Env: env, Dir: "/", Stdout: log, Stderr: log,
		Network: network, Nice: wk.Nice})
	if cause := context.Cause(cctx); cause != nil && ctx.Err() == nil {
		var te *errTimeout
		if errors.As(cause, &te) {
			return st, te
		}
	}
	if errors.Is(err, isolate.ErrOutput) {
		// The command was drained, never blocked; the port fails with
		// the reason, and the run goes on.
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			return st, fmt.Errorf("log disk full: %s's output could not be written to the build log (%w)", what, err)
		}
		return st, fmt.Errorf("build log: %s's output could not be written (%w)", what, err)
	}
	return st, err
}

// build builds node n on worker w (0-based; slot w+1).
func (b *builder) build(ctx context.Context, w int, n *plan.Node) (res PortResult) {
	res.Start = time.Now()
	defer func() { res.End = time.Now() }()
	fail := func(phase, msg string) PortResult {
		res.Outcome = Outcome{Phase: phase, Err: msg}
		if ctx.Err() != nil {
			res.Outcome.Interrupted = true
			res.Outcome.Err = "interrupted"
		}
		return res
	}
	if err := os.MkdirAll(b.logsDir, 0o755); err != nil {
		return fail("setup", fmt.Sprintf("logs dir: %v", err))
	}
	res.LogPath = filepath.Join(b.logsDir, LogName(n.ID))
	f, err := os.Create(res.LogPath)
	if err != nil {
		return fail("setup", fmt.Sprintf("log: %v", err))
	}
	defer f.Close()
	var logw io.Writer = f
	if b.logTee != nil {
		logw = io.MultiWriter(f, b.logTee)
	}
	log := &syncWriter{w: logw}
	log.printf("dsynth build log\norigin:    %s\nnode:      %s\nversion:   %s\npkgfile:   %s\ninput key: %s\ncrc32:     %s\nworker:    %d (slot SL%02d)\nstart:     %s\n",
		n.Origin, n.ID, n.Version, n.PkgFile, n.InputKey, n.CRC32, w, w+1, res.Start.UTC().Format(time.RFC3339))
	if n.Meta {
		log.printf("\nmeta port: no package to build\n")
		res.Outcome = Outcome{OK: true}
		return res
	}

	res.Env = b.env(n)
	res.MakeArgs = append([]string{b.makeCommand(), "-C", slotPorts + "/" + n.Origin}, n.MakeArgs()...)
	log.printf("make:      %s <phase>\nenvironment:\n", strings.Join(res.MakeArgs, " "))
	for _, e := range res.Env {
		log.printf("  %s\n", e)
	}

	// The slot's output folder (its /.npkg), under packages_dir: the
	// only place the build may write its package to.
	stage := filepath.Join(b.pkgsDir, stagingDir, isolate.SlotName(w+1))
	if err := os.RemoveAll(stage); err != nil {
		return fail("setup", fmt.Sprintf("output folder: %v", err))
	}
	if err := os.MkdirAll(filepath.Join(stage, "All"), 0o755); err != nil {
		return fail("setup", fmt.Sprintf("output folder: %v", err))
	}
	defer os.RemoveAll(stage)
	if err := os.MkdirAll(filepath.Join(b.pkgsDir, "All"), 0o755); err != nil {
		return fail("setup", fmt.Sprintf("packages dir: %v", err))
	}

	t0 := time.Now()
	slot, err := b.iso.Prepare(ctx, w+1, stage)
	if err != nil {
		log.printf("\nslot SL%02d: %v\n", w+1, err)
		res = fail("setup", fmt.Sprintf("prepare slot SL%02d: %v", w+1, err))
		if ctx.Err() == nil {
			// An interrupt during preparation is an interrupt, not a
			// broken build environment.
			res.Fatal = fmt.Errorf("isolation: prepare slot SL%02d: %w", w+1, err)
		}
		res.Outcome.Interrupted = true
		return res
	}
	torn := false
	teardown := func() {
		// A slot that cannot be torn down is an isolation failure: the
		// run stops (the slot's folder would refuse the next port anyway).
		// The port keeps its outcome: its helper is gone, so nothing of
		// the build runs any more and its package can be taken.
		if torn {
			return
		}
		torn = true
		if err := slot.Teardown(); err != nil {
			log.printf("\nteardown slot SL%02d: %v\n", w+1, err)
			res.Fatal = fmt.Errorf("isolation: tear down slot SL%02d: %w", w+1, err)
		}
	}
	defer teardown()
	log.printf("slot:      SL%02d prepared in %s\n", w+1, time.Since(t0).Round(time.Millisecond))

	// Bootstrap pkg and install the dependencies.
	if phase, msg := b.installDeps(ctx, w, slot, log, n, &res); msg != "" {
		return fail(phase, msg)
	}

	netMode := b.p.Settings.Environment.Network
	for _, ph := range b.phases {
		b.note(w, n.ID, ph)
		network := netMode == plan.NetworkAll || (netMode == plan.NetworkFetch && fetchPhases[ph])
		argv := append(append([]string(nil), res.MakeArgs...), ph)
		pt := PhaseTime{Name: ph, Start: time.Now()}
		log.printf("\n=== phase %s (started %s) ===\n", ph, pt.Start.UTC().Format("15:04:05"))
		st, err := b.runCmd(ctx, slot, log, argv, res.Env, network, ph, ph+" phase")
		pt.End, pt.Status = time.Now(), st
		res.Phases = append(res.Phases, pt)
		d := pt.End.Sub(pt.Start).Round(time.Millisecond)
		if err != nil || st != 0 {
			msg := fmt.Sprintf("%s phase: exit status %d", ph, st)
			if err != nil {
				msg = fmt.Sprintf("%s phase: %v", ph, err)
			}
			log.printf("=== phase %s: FAILED after %s: %s ===\n", ph, d, msg)
			return fail(ph, msg)
		}
		log.printf("=== phase %s: ok in %s ===\n", ph, d)
	}

	// Take the package: only once nothing of the build runs any more,
	// only as a regular file, moved into packages_dir atomically.
	b.note(w, n.ID, "finish")
	teardown()
	pkg, err := takePackage(stage, b.pkgsDir, n.PkgFile)
	if err != nil {
		log.printf("\npackage: %v\n", err)
		return fail("package", fmt.Sprintf("package phase did not produce %s: %v", n.PkgFile, err))
	}
	res.PkgFile, res.Size, res.SHA256 = n.PkgFile, pkg.Size, pkg.SHA256
	log.printf("\npackage:   %s\nsize:      %d\nsha256:    %s\nend:       %s (%s)\n", pkg.Path, pkg.Size, pkg.SHA256,
		time.Now().UTC().Format(time.RFC3339), time.Since(res.Start).Round(time.Millisecond))
	res.Outcome = Outcome{OK: true}
	return res
}

// installDeps extracts ports-mgmt/pkg into slot and installs n's
// dependencies (installSet) in it; it returns the failed step and its
// message, or "".
func (b *builder) installDeps(ctx context.Context, w int, slot Slot, log *syncWriter, n *plan.Node, res *PortResult) (phase, msg string) {
	if b.pkgNode != nil && n.ID != b.pkgNode.ID && b.pkgNode.PkgFile != "" {
		b.note(w, n.ID, "install-pkg")
		argv := []string{"tar", "-xf", slotPackages + "/All/" + b.pkgNode.PkgFile, "-C", "/", "--exclude", "+*"}
		if msg := b.step(ctx, slot, log, "install-pkg", "bootstrap "+b.pkgNode.PkgFile, argv, res.Env, res); msg != "" {
			return "install-pkg", msg
		}
	}
	// The dependencies, in one pkg-static add (dependencies first), or
	// extracted one by one when the tree has no ports-mgmt/pkg.
	deps := b.installSet(n)
	if len(deps) > 0 {
		b.note(w, n.ID, "install-deps")
		var files, names []string
		for _, d := range deps {
			files = append(files, slotPackages+"/All/"+d.PkgFile)
			names = append(names, d.PkgFile)
		}
		if b.pkgNode != nil {
			argv := append([]string{pkgStatic, "add"}, files...)
			if msg := b.step(ctx, slot, log, "install-deps", "install "+strings.Join(names, " "), argv, res.Env, res); msg != "" {
				return "install-deps", msg
			}
		} else {
			for _, f := range files {
				argv := []string{"tar", "-xf", f, "-C", "/", "--exclude", "+*"}
				if msg := b.step(ctx, slot, log, "install-deps", "install "+filepath.Base(f), argv, res.Env, res); msg != "" {
					return "install-deps", msg
				}
			}
		}
		res.DepsInstalled = names
	}
	return "", ""
}

// step runs a command that is not a make phase (pkg bootstrap, dependency
// install), recorded as pseudo-phase name, and returns "" or the failure
// message.
func (b *builder) step(ctx context.Context, slot Slot, log *syncWriter, name, what string, argv, env []string, res *PortResult) string {
	log.printf("\n=== %s ===\n", what)
	t0 := time.Now()
	st, err := b.runCmd(ctx, slot, log, argv, env, false, name, what)
	res.Phases = append(res.Phases, PhaseTime{Name: name, Start: t0, End: time.Now(), Status: st})
	if err != nil || st != 0 {
		msg := fmt.Sprintf("%s: exit status %d", what, st)
		if err != nil {
			msg = fmt.Sprintf("%s: %v", what, err)
		}
		log.printf("=== %s: FAILED: %s ===\n", what, msg)
		return msg
	}
	log.printf("=== %s: ok in %s ===\n", what, time.Since(t0).Round(time.Millisecond))
	return ""
}

func (b *builder) note(w int, id, phase string) {
	if b.progress != nil {
		b.progress(w, id, phase)
	}
}

// fileSHA256 returns the hex SHA-256 and size of a file.
func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// FileSHA256 returns the hex SHA-256 and size of a file.
func FileSHA256(path string) (string, int64, error) { return fileSHA256(path) }
