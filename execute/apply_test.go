package execute

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
	"github.com/go-dsynth/dsynth/spec"
)

// fakeIso is an Isolator whose slots interpret the commands the builder
// runs: make phases (failing or sleeping where told, writing the package
// file in the package phase), tar bootstrap and pkg-static add (checking
// that the package exists in packages_dir/All).
type fakeIso struct {
	pkgsDir  string
	fail     map[string]string        // node ID -> phase that fails
	sleep    map[string]time.Duration // node ID -> time spent in build (silent)
	started  chan string              // receives node IDs entering build, if set
	failPrep int                      // Prepare fails from this call on (0: never)
	prepWait chan struct{}            // if set, Prepare signals it and waits for ctx to end
	failTear int                      // Teardown of this Prepare call fails (0: never)

	mu        sync.Mutex
	prepared  int
	active    int
	builds    map[string]int      // node ID -> package phases run
	installed map[string][]string // node ID -> what was installed, in order
	network   map[string]bool     // phases that ran with the network
	cleaned   int
}

type fakeSlot struct {
	iso      *fakeIso
	n        int
	output   string   // host side of /.npkg
	pending  []string // installs seen before the first make (node unknown yet)
	node     string
	torn     bool
	failTear bool
}

func (f *fakeIso) Prepare(ctx context.Context, n int, output string) (Slot, error) {
	if f.prepWait != nil {
		close(f.prepWait)
		<-ctx.Done()
		return nil, fmt.Errorf("mount tmpfs: %w", ctx.Err())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prepared++
	if f.failPrep > 0 && f.prepared >= f.failPrep {
		return nil, fmt.Errorf("mount tmpfs: operation not permitted")
	}
	f.active++
	return &fakeSlot{iso: f, n: n, output: output, failTear: f.failTear == f.prepared}, nil
}

func (f *fakeIso) Cleanup() ([]string, error) {
	f.mu.Lock()
	f.cleaned++
	f.mu.Unlock()
	return nil, nil
}

func (s *fakeSlot) Root() string { return "/nonexistent" }

func (s *fakeSlot) Teardown() error {
	s.iso.mu.Lock()
	defer s.iso.mu.Unlock()
	if s.torn {
		return fmt.Errorf("double teardown")
	}
	s.torn = true
	s.iso.active--
	if s.failTear {
		return fmt.Errorf("unmount /construction: device or resource busy")
	}
	return nil
}

func envOf(env []string, k string) string {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, k+"="); ok {
			return v
		}
	}
	return ""
}

func (s *fakeSlot) Run(ctx context.Context, c isolate.Cmd) (int, error) {
	f := s.iso
	if envOf(c.Env, "PACKAGES") != slotOutput {
		return 1, fmt.Errorf("PACKAGES=%q, want the output folder %s", envOf(c.Env, "PACKAGES"), slotOutput)
	}
	hostPkg := func(p string) string { return filepath.Join(f.pkgsDir, strings.TrimPrefix(p, "/packages/")) }
	switch {
	case c.Argv[0] == "tar" || c.Argv[0] == pkgStatic:
		files := c.Argv[2:]
		if c.Argv[0] == "tar" {
			files = c.Argv[2:3]
		}
		for _, file := range files {
			if _, err := os.Stat(hostPkg(file)); err != nil {
				fmt.Fprintf(c.Stderr, "%s: %v\n", c.Argv[0], err)
				return 1, nil
			}
			s.pending = append(s.pending, filepath.Base(c.Argv[0])+" "+filepath.Base(file))
		}
		return 0, nil
	case c.Argv[0] == "bmake" && c.Argv[1] == "-C":
		origin := strings.TrimPrefix(c.Argv[2], "/xports/")
		id := origin
		if fl, ok := strings.CutPrefix(c.Argv[3], "FLAVOR="); ok {
			id += "@" + fl
			c.Argv = slices.Delete(c.Argv, 3, 4)
		}
		if s.node == "" {
			s.node = id
			f.mu.Lock()
			f.installed[id] = append(f.installed[id], s.pending...)
			f.mu.Unlock()
		}
		if id != s.node {
			return 1, fmt.Errorf("make for %s in the slot of %s", id, s.node)
		}
		phase := c.Argv[3]
		if c.Network {
			f.mu.Lock()
			f.network[phase] = true
			f.mu.Unlock()
		}
		fmt.Fprintf(c.Stdout, "make %s for %s\n", phase, id)
		if phase == "build" {
			if f.started != nil {
				f.started <- id
			}
			if d := f.sleep[id]; d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return -1, ctx.Err()
				}
			}
		}
		if f.fail[id] == phase {
			fmt.Fprintf(c.Stderr, "*** Error code 1\n")
			return 1, nil
		}
		if phase == "package" {
			dir := filepath.Join(s.output, "All")
			name := envOf(c.Env, "TEST_PKGFILE")
			if err := os.WriteFile(filepath.Join(dir, name), []byte("package of "+id+" "+envOf(c.Env, "SOURCE_DATE_EPOCH")), 0o644); err != nil {
				fmt.Fprintln(c.Stderr, err)
				return 1, nil
			}
			f.mu.Lock()
			f.builds[id]++
			f.mu.Unlock()
		}
		return 0, nil
	}
	return 127, fmt.Errorf("fake slot: unexpected command %q", c.Argv)
}

// testPlan builds a plan in memory. Each spec is "id action deps..." with
// deps written kind:id.
func testPlan(t *testing.T, dir string, specs ...string) *plan.Plan {
	t.Helper()
	p := &plan.Plan{Digest: "digest-" + filepath.Base(dir)}
	p.Settings = plan.Settings{Name: "test", BuildBase: filepath.Join(dir, "base"), PackagesDir: filepath.Join(dir, "packages"),
		LogsDir: filepath.Join(dir, "logs"), Records: filepath.Join(dir, "records.db"), PackageSuffix: ".pkg",
		MakeCommand: "bmake", Workers: plan.Workers{Count: 2, MaxJobs: 1, NoThrottle: true}}
	p.Environment.Vars = map[string]string{"OPSYS": "DragonFly"}
	p.PkgNode = "ports-mgmt/pkg"
	for _, s := range specs {
		f := strings.Fields(s)
		n := plan.Node{ID: f[0], Action: plan.Action(f[1]), Version: "1.0", InputKey: "key-" + f[0], CRC32: "0000abcd",
			Deps: map[plan.DepKind][]string{}}
		n.Origin, n.Flavor, _ = strings.Cut(f[0], "@")
		n.PkgName = filepath.Base(n.Origin)
		for _, d := range f[2:] {
			switch {
			case d == "meta":
				n.Meta = true
			case strings.HasPrefix(d, "ignore="):
				n.Ignore = strings.TrimPrefix(d, "ignore=")
			default:
				k, id, _ := strings.Cut(d, ":")
				n.Deps[plan.DepKind(k)] = append(n.Deps[plan.DepKind(k)], id)
			}
		}
		if !n.Meta {
			n.PkgFile = n.PkgName + "-1.0.pkg"
			if n.Flavor != "" {
				n.PkgFile = n.PkgName + "-" + n.Flavor + "-1.0.pkg"
			}
			n.MakeEnv = map[string]string{"TEST_PKGFILE": n.PkgFile}
		}
		p.Ports = append(p.Ports, n)
	}
	return p
}

func newFake(p *plan.Plan) *fakeIso {
	return &fakeIso{pkgsDir: p.Settings.PackagesDir, builds: map[string]int{}, installed: map[string][]string{}, network: map[string]bool{}}
}

func openRecords(t *testing.T, p *plan.Plan) *record.DB {
	t.Helper()
	db, err := record.Open(p.Settings.Records, record.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var demoSpecs = []string{
	"ports-mgmt/pkg build",
	"devel/lib build",
	"devel/tool build",
	"misc/prog build lib:devel/lib build:devel/tool run:misc/data@py3",
	"misc/data@py3 build run:devel/lib",
	"misc/data@py2 build",
	"devel/fails build",
	"misc/needs-fails build build:devel/fails",
	"misc/needs-needs build lib:misc/needs-fails",
	"misc/old skip",
	"misc/broken ignored ignore=is_broken",
	"misc/needs-broken skipped build:misc/broken",
	"meta/all build meta run:misc/prog run:misc/data@py2",
}

func TestApplyOutcomesRecordsAndLogs(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, demoSpecs...)
	p.Ports[9].Reason = "up to date"
	p.Ports[11].Reason = "skipped: misc/broken is ignored"
	iso := newFake(p)
	iso.fail = map[string]string{"devel/fails": "build"}
	var events []Event
	sum, err := apply(context.Background(), Options{Plan: planFile(t, p), Isolator: iso,
		Observers: []Observer{func(e Event) { events = append(events, e) }}})
	if err != nil {
		t.Fatal(err)
	}
	want := record.Counts{Planned: 13, Built: 7, Failed: 1, Skipped: 3, Ignored: 1, UpToDate: 1}
	if sum.Counts != want || sum.Status != record.RunFailed || sum.Complete() {
		t.Errorf("summary %+v, want counts %+v status failed", sum, want)
	}
	if iso.active != 0 || iso.prepared != 7 || iso.cleaned != 1 {
		t.Errorf("slots: %d active, %d prepared (want 7: meta needs none), %d cleanups", iso.active, iso.prepared, iso.cleaned)
	}
	// Dependencies: pkg extracted, then the LIB/RUN closure in order.
	wantInst := []string{"tar pkg-1.0.pkg", "pkg-static tool-1.0.pkg", "pkg-static lib-1.0.pkg", "pkg-static data-py3-1.0.pkg"}
	if got := iso.installed["misc/prog"]; !slices.Equal(got, wantInst) {
		t.Errorf("misc/prog installed %v, want %v", got, wantInst)
	}
	if got := iso.installed["ports-mgmt/pkg"]; len(got) != 0 {
		t.Errorf("ports-mgmt/pkg installed %v", got)
	}

	db := openRecords(t, p)
	run, err := db.Run("last")
	if err != nil || run.ID != sum.RunID || !validPlanFile(run.Plan, run.PlanDigest) || run.Status != record.RunFailed || run.Counts != want {
		t.Fatalf("run record %+v, %v", run, err)
	}
	atts, _ := db.RunAttempts(run.ID)
	byNode := map[string]*record.Attempt{}
	for _, a := range atts {
		if byNode[a.NodeID] != nil {
			t.Errorf("two attempts for %s", a.NodeID)
		}
		byNode[a.NodeID] = a
	}
	if len(byNode) != 13 {
		t.Errorf("%d attempts, want 13", len(byNode))
	}
	for id, st := range map[string]string{
		"misc/prog": record.AttemptSuccess, "devel/fails": record.AttemptFailed, "misc/needs-fails": record.AttemptSkipped,
		"misc/needs-needs": record.AttemptSkipped, "misc/old": record.AttemptUpToDate, "misc/broken": record.AttemptIgnored,
		"misc/needs-broken": record.AttemptSkipped, "meta/all": record.AttemptSuccess,
	} {
		if a := byNode[id]; a == nil || a.Status != st {
			t.Errorf("%s: attempt %+v, want status %s", id, a, st)
		}
	}
	if a := byNode["misc/needs-needs"]; a.Error != "skipped: devel/fails failed in build phase (needed by misc/needs-fails)" {
		t.Errorf("chain: %q", a.Error)
	}
	if a := byNode["devel/fails"]; a.LastPhase != "build" || !strings.Contains(a.Error, "exit status 1") || a.Worker < 0 {
		t.Errorf("failed attempt: %+v", a)
	}
	prog := byNode["misc/prog"]
	if prog.SHA256 == "" || prog.Size == 0 || len(prog.Phases) != len(Phases)+2 || !slices.Equal(prog.DepsInstalled, []string{"tool-1.0.pkg", "lib-1.0.pkg", "data-py3-1.0.pkg"}) {
		t.Errorf("prog attempt: %+v", prog)
	}
	for _, e := range []string{"PORTSDIR=/xports", "PORT_DBDIR=/options", "SOURCE_DATE_EPOCH=315532800", "OPSYS=DragonFly", "PACKAGES=/.npkg"} {
		if !slices.Contains(prog.Env, e) {
			t.Errorf("prog env lacks %s: %v", e, prog.Env)
		}
	}
	if a := byNode["misc/data@py3"]; !slices.Equal(a.MakeArgs, []string{"bmake", "-C", "/xports/misc/data", "FLAVOR=py3"}) {
		t.Errorf("flavored make args: %v", a.MakeArgs)
	}
	pk, err := db.Packages()
	if err != nil || pk["misc/prog"].SHA256 != prog.SHA256 || pk["devel/fails"].NodeID != "" || pk["meta/all"].NodeID != "meta/all" || pk["meta/all"].PkgFile != "" {
		t.Errorf("packages: %+v %v", pk, err)
	}
	if sum, _, _ := fileSHA256(filepath.Join(p.Settings.PackagesDir, "All", "prog-1.0.pkg")); sum != prog.SHA256 {
		t.Errorf("package file sha %s, record %s", sum, prog.SHA256)
	}
	if ents, _ := os.ReadDir(filepath.Join(p.Settings.PackagesDir, stagingDir)); len(ents) != 0 {
		t.Errorf("staging left: %v", ents)
	}
	crcs, err := db.CRCIndex()
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := crcs["misc/prog"]; !ok || e.CRC32 != "0000abcd" || e.InputKey != "key-misc/prog" {
		t.Errorf("crc index: %+v %v", e, ok)
	}
	ws, _ := db.RunWorkers(run.ID)
	if len(ws) != 2 || ws[0].Built+ws[1].Built != 7 || ws[0].Failed+ws[1].Failed != 1 {
		t.Errorf("workers: %+v %+v", ws[0], ws[1])
	}

	// Logs.
	log, _ := os.ReadFile(filepath.Join(p.Settings.LogsDir, "misc___data@py3.log"))
	for _, s := range []string{"origin:    misc/data", "input key: key-misc/data@py3", "worker:", "=== phase build (started", "=== phase package: ok in", "make build for misc/data@py3", "sha256:"} {
		if !strings.Contains(string(log), s) {
			t.Errorf("port log lacks %q:\n%s", s, log)
		}
	}
	for name, want := range map[string]string{
		LogFailure:     "devel/fails 1.0 phase=build build phase: exit status 1\n",
		LogIgnored:     "misc/broken 1.0 is_broken\n",
		LogSkipped:     "misc/needs-broken 1.0 skipped: misc/broken is ignored\nmisc/needs-fails 1.0 skipped: devel/fails failed in build phase\nmisc/needs-needs 1.0 skipped: devel/fails failed in build phase (needed by misc/needs-fails)\n",
		LogLastResults: "failed     devel/fails-1.0 phase build",
		LogSuccess:     "meta/all 1.0\n",
	} {
		b, _ := os.ReadFile(filepath.Join(p.Settings.LogsDir, name))
		if name == LogSkipped || name == LogFailure || name == LogIgnored {
			if string(b) != want {
				t.Errorf("%s = %q, want %q", name, b, want)
			}
		} else if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q:\n%s", name, want, b)
		}
	}
	if _, err := os.Stat(StatusFile(p.Settings.BuildBase)); !os.IsNotExist(err) {
		t.Errorf("status file left after the run: %v", err)
	}
	kinds := map[string]int{}
	for _, e := range events {
		kinds[e.Kind]++
	}
	if kinds[EventRunStart] != 1 || kinds[EventRunEnd] != 1 || kinds[EventBuilt] != 7 || kinds[EventFailed] != 1 || kinds[EventSkipped] != 3 || events[len(events)-1].Done != 13 {
		t.Errorf("events: %v, last %+v", kinds, events[len(events)-1])
	}
}

func TestApplyInterruptThenResume(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, "ports-mgmt/pkg build", "devel/a build", "devel/slow build lib:devel/a", "devel/c build lib:devel/slow")
	p.Settings.Environment.Network = spec.NetworkFetch
	iso := newFake(p)
	iso.sleep = map[string]time.Duration{"devel/slow": time.Hour}
	iso.started = make(chan string, 10)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for id := range iso.started {
			if id == "devel/slow" {
				cancel()
			}
		}
	}()
	sum, err := apply(ctx, Options{Plan: planFile(t, p), Isolator: iso, Workers: 1})
	close(iso.started)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != record.RunInterrupted || sum.Counts.Built != 2 || iso.active != 0 {
		t.Fatalf("interrupted run: %+v, %d slots active", sum, iso.active)
	}
	if len(iso.network) != 2 || !iso.network["fetch"] || !iso.network["checksum"] {
		t.Errorf("network = \"fetch\": phases with network %v", iso.network)
	}
	db := openRecords(t, p)
	atts, _ := db.RunAttempts(sum.RunID)
	if len(atts) != 3 || atts[2].NodeID != "devel/slow" || atts[2].Status != record.AttemptInterrupted {
		t.Errorf("attempts after interrupt: %d, last %+v", len(atts), atts[len(atts)-1])
	}
	db.Close()

	// Resume: pkg and devel/a are not rebuilt.
	iso2 := newFake(p)
	sum2, err := apply(context.Background(), Options{Plan: planFile(t, p), Isolator: iso2})
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Status != record.RunSuccess || sum2.Counts.Built != 2 || sum2.Counts.UpToDate != 2 || !sum2.Complete() {
		t.Errorf("resumed run: %+v", sum2)
	}
	if iso2.builds["devel/a"] != 0 || iso2.builds["devel/slow"] != 1 || iso2.builds["devel/c"] != 1 {
		t.Errorf("resume rebuilt: %v", iso2.builds)
	}
	// A package that vanished is rebuilt.
	os.Remove(filepath.Join(p.Settings.PackagesDir, "All", "a-1.0.pkg"))
	iso3 := newFake(p)
	if _, err := apply(context.Background(), Options{Plan: planFile(t, p), Isolator: iso3}); err != nil {
		t.Fatal(err)
	}
	if iso3.builds["devel/a"] != 1 || iso3.builds["devel/c"] != 0 {
		t.Errorf("after removing a package: %v", iso3.builds)
	}
}

func TestApplyTimeoutsStaleAndCrash(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, "devel/hang build", "devel/quick build")
	p.Settings.Workers.IdleTimeout = 100 * time.Millisecond
	iso := newFake(p)
	iso.sleep = map[string]time.Duration{"devel/hang": time.Hour}

	// A crashed run of this build base is recovered first.
	rec := &recorder{path: p.Settings.Records}
	dead := &record.Run{ID: "dead-run", BuildBase: p.Settings.BuildBase, Status: record.RunRunning, PID: 1 << 30, Start: time.Now().Add(-time.Hour)}
	deadAt := &record.Attempt{ID: "dead-att", RunID: "dead-run", NodeID: "devel/quick", Origin: "devel/quick", Status: record.AttemptBuilding}
	doneEnd := time.Now().Add(-30 * time.Minute).UTC()
	deadDone := &record.Attempt{ID: "dead-done", RunID: "dead-run", NodeID: "devel/gone", Origin: "devel/gone", Status: record.AttemptSuccess,
		Start: doneEnd.Add(-time.Minute), End: doneEnd}
	if err := rec.update(func(db *record.DB) error {
		if err := db.SaveRun(dead); err != nil {
			return err
		}
		return db.SaveAttempts(deadDone, deadAt)
	}); err != nil {
		t.Fatal(err)
	}
	var warns []string
	sum, err := apply(context.Background(), Options{Plan: planFile(t, p), Isolator: iso, Warn: func(s string) { warns = append(warns, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.Failed != 1 || sum.Counts.Built != 1 || len(sum.Failed) != 1 || sum.Failed[0] != "devel/hang (build)" {
		t.Errorf("summary: %+v", sum)
	}
	db := openRecords(t, p)
	h, _ := db.History("devel/hang")
	if len(h) != 1 || !strings.Contains(h[0].Error, "idle timeout: build phase printed nothing for 100ms") {
		t.Errorf("hang attempt: %+v", h)
	}
	r, _ := db.Run("dead-run")
	a, _ := db.Attempt("dead-att")
	if r.Status != record.RunCrashed || a.Status != record.AttemptInterrupted || len(warns) != 1 || !strings.Contains(warns[0], "crashed") {
		t.Errorf("crash recovery: run %s, attempt %s, warnings %q", r.Status, a.Status, warns)
	}
	// Its counts come from its attempts; it ended at its last activity.
	if r.Counts.Built != 1 || !r.End.Equal(doneEnd) {
		t.Errorf("crashed run: counts %+v, end %v, want 1 built, end %v", r.Counts, r.End, doneEnd)
	}
	db.Close()

	// Phase timeout.
	p.Settings.Workers.IdleTimeout, p.Settings.Workers.PhaseTimeout = 0, 150*time.Millisecond
	iso = newFake(p)
	iso.sleep = map[string]time.Duration{"devel/hang": time.Hour}
	sum, err = apply(context.Background(), Options{Plan: planFile(t, p), Isolator: iso, Workers: 1})
	if err != nil || sum.Counts.Failed != 1 {
		t.Fatalf("phase timeout run: %+v %v", sum, err)
	}
	db = openRecords(t, p)
	h, _ = db.History("devel/hang")
	if len(h) != 2 || !strings.Contains(h[1].Error, "phase timeout: build phase ran longer than 150ms") {
		t.Errorf("phase timeout attempt: %+v", h[len(h)-1])
	}
	db.Close()

	// Stale plan.
	_, err = apply(context.Background(), Options{Plan: planFile(t, p), Isolator: newFake(p), Verify: func(context.Context, *plan.Plan) ([]string, error) {
		return []string{"devel/quick: port directory changed (crc32 0000abcd -> 1234abcd)"}, nil
	}})
	if se, ok := err.(*StaleError); !ok || !strings.Contains(se.Error(), "devel/quick: port directory changed") {
		t.Errorf("stale: %v", err)
	}
}

func TestApplyIsolationFailureStopsTheRun(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, "ports-mgmt/pkg build", "devel/a build", "devel/b build", "devel/c build lib:devel/a")
	iso := newFake(p)
	iso.failPrep = 2
	sum, err := apply(context.Background(), Options{Plan: planFile(t, p), Isolator: iso, Workers: 1})
	if err == nil || !strings.Contains(err.Error(), "isolation: prepare slot SL01: mount tmpfs: operation not permitted") {
		t.Fatalf("err = %v", err)
	}
	if sum == nil || sum.Status != record.RunError || sum.Counts.Built != 1 || iso.prepared != 2 {
		t.Errorf("summary %+v, %d prepares", sum, iso.prepared)
	}
	db := openRecords(t, p)
	r, _ := db.Run("last")
	if r.Status != record.RunError || !strings.Contains(r.Error, "isolation") {
		t.Errorf("run record: %s %q", r.Status, r.Error)
	}
}

// A slot that cannot be torn down stops the run as an isolation failure;
// the port it built keeps its success (its package is in place).
func TestApplyTeardownFailureStopsTheRun(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, "ports-mgmt/pkg build", "devel/a build", "devel/b build", "devel/c build lib:devel/a")
	iso := newFake(p)
	iso.failTear = 2 // devel/a's slot (pkg is built first)
	sum, err := apply(context.Background(), Options{Plan: planFile(t, p), Isolator: iso, Workers: 1})
	if err == nil || !strings.Contains(err.Error(), "isolation: tear down slot SL01: unmount /construction: device or resource busy") {
		t.Fatalf("err = %v", err)
	}
	if sum == nil || sum.Status != record.RunError || sum.Counts.Built != 2 {
		t.Errorf("summary %+v", sum)
	}
	db := openRecords(t, p)
	h, _ := db.History("devel/a")
	if len(h) != 1 || h[0].Status != record.AttemptSuccess {
		t.Errorf("devel/a: %+v", h)
	}
	if _, err := os.Stat(filepath.Join(p.Settings.PackagesDir, "All", "a-1.0.pkg")); err != nil {
		t.Errorf("devel/a's package: %v", err)
	}
}

// A plan whose build nodes depend on an ignored node (the planner marks
// them skipped; apply does not rely on it).
func TestApplySkipsDependentsOfIgnoredInOrder(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, "x/b build build:x/a", "x/a build build:x/ign", "x/ign ignored ignore=broken", "x/ok build")
	iso := newFake(p)
	sum, err := apply(context.Background(), Options{Plan: planFile(t, p), Isolator: iso})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.Built != 1 || sum.Counts.Skipped != 2 || sum.Counts.Ignored != 1 || iso.builds["x/a"]+iso.builds["x/b"] != 0 {
		t.Fatalf("summary %+v, builds %v", sum, iso.builds)
	}
	want := []string{"x/a: x/ign is ignored", "x/b: x/ign is ignored (needed by x/a)"}
	if !slices.Equal(sum.Skipped, want) {
		t.Errorf("skipped %q, want %q", sum.Skipped, want)
	}
}

// A node the planner could not plan (ActionFailed) is recorded as failed
// without a build, like an ignored one, and its dependents are skipped
// with the chain; the rest builds.
func TestApplyFailedToPlanNode(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, "x/b build build:x/a", "x/a build build:x/gone", "x/gone failed", "x/ok build")
	p.Ports[2].Reason = "no such port (no Makefile in the tree)"
	iso := newFake(p)
	sum, err := apply(context.Background(), Options{Plan: planFile(t, p), Isolator: iso})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.Built != 1 || sum.Counts.Skipped != 2 || sum.Counts.Failed != 1 || iso.builds["x/a"]+iso.builds["x/b"]+iso.builds["x/gone"] != 0 {
		t.Fatalf("summary %+v, builds %v", sum, iso.builds)
	}
	want := []string{"x/a: x/gone failed to plan", "x/b: x/gone failed to plan (needed by x/a)"}
	if !slices.Equal(sum.Skipped, want) {
		t.Errorf("skipped %q, want %q", sum.Skipped, want)
	}
	if !slices.Equal(sum.Failed, []string{"x/gone (plan)"}) {
		t.Errorf("failed %q", sum.Failed)
	}
	atts, err := openRecords(t, p).RunAttempts(sum.RunID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range atts {
		if a.NodeID == "x/gone" && (a.Status != record.AttemptFailed || a.Error != "failed to plan: no such port (no Makefile in the tree)") {
			t.Errorf("attempt of x/gone: %s %q", a.Status, a.Error)
		}
	}
}

// An interrupt while a slot is being prepared is an interrupt, not a
// broken build environment.
func TestApplyInterruptDuringPrepare(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, "devel/a build")
	p.PkgNode = ""
	iso := newFake(p)
	iso.prepWait = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-iso.prepWait
		cancel()
	}()
	sum, err := apply(ctx, Options{Plan: planFile(t, p), Isolator: iso, Workers: 1})
	if sum == nil || sum.Status != record.RunInterrupted {
		t.Fatalf("summary %+v, err %v; want interrupted", sum, err)
	}
	if err != nil && strings.Contains(err.Error(), "isolation") {
		t.Errorf("err = %v: an interrupt is not an isolation failure", err)
	}
	db := openRecords(t, p)
	h, _ := db.History("devel/a")
	if len(h) != 1 || h[0].Status != record.AttemptInterrupted {
		t.Errorf("devel/a: %+v", h)
	}
}
