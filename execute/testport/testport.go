package testport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/plan"
)

// Check names, in the order they run.
const (
	CheckBuild     = "build"
	CheckTest      = "test"
	CheckPlist     = "check-plist"
	CheckStageQA   = "stage-qa"
	CheckPackage   = "package"
	CheckLeftovers = "leftovers"
)

// Checks are every check's name, in order.
var Checks = []string{CheckBuild, CheckTest, CheckPlist, CheckStageQA, CheckPackage, CheckLeftovers}

// Options configure Run.
type Options struct {
	// Plan holds the port and its dependencies (planned with tests
	// enabled, so that its TEST_DEPENDS are installed); Node is the
	// port's node ID. The dependencies' packages must be in the plan's
	// packages_dir (see DepTargets).
	Plan *plan.Plan
	Node string
	// Isolator prepares the slot (execute.SlotIsolator in dsynth).
	Isolator execute.Isolator
	// Out receives the report, check by check, as they finish (nil:
	// none).
	Out io.Writer
	// Shell, when set, is where a failed test opens its interactive
	// shell: the slot is kept until it exits.
	Shell *Shell
}

// Shell are the standard streams of the interactive shell (-i). Stdin is
// given to the shell as it is when it is an *os.File (a terminal).
type Shell struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Check is the outcome of one check.
type Check struct {
	Name string
	// Status is "pass", "fail" or "skipped" (with Note saying why).
	Status   string
	Note     string
	Problems []string // the offending files, one per line
}

// Check statuses.
const (
	Pass    = "pass"
	Fail    = "fail"
	Skipped = "skipped"
)

// Result is the outcome of Run.
type Result struct {
	Node    string
	Checks  []Check
	LogPath string
}

// Failed lists the names of the failed checks.
func (r *Result) Failed() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c.Name)
		}
	}
	return out
}

// LogName is the test log's path below the profile's logs_dir.
func LogName(id string) string { return filepath.Join("test", execute.LogName(id)) }

// DepTargets are the origins (node IDs) Apply must build before node id
// of p can be tested: its direct dependencies of every kind (test
// included when p was planned with tests) and ports-mgmt/pkg, sorted.
func DepTargets(p *plan.Plan, id string) []string {
	n := p.Node(id)
	if n == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, k := range plan.DepKinds {
		for _, d := range n.Deps[k] {
			if d != id {
				seen[d] = true
			}
		}
	}
	if p.PkgNode != "" && p.PkgNode != id {
		seen[p.PkgNode] = true
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Run tests node o.Node of o.Plan in slot SL01. The caller holds the
// build-base lock. It returns an error only when the test could not run
// (no such port, the slot); failed checks are in the Result.
func Run(ctx context.Context, o Options) (*Result, error) {
	p := o.Plan
	n := p.Node(o.Node)
	if n == nil {
		return nil, fmt.Errorf("%s is not in the plan", o.Node)
	}
	if n.Ignore != "" {
		return nil, fmt.Errorf("%s is ignored: %s", n.ID, n.Ignore)
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	if _, err := o.Isolator.Cleanup(); err != nil {
		return nil, fmt.Errorf("clean build base: %w", err)
	}
	res := &Result{Node: n.ID, LogPath: filepath.Join(p.Settings.LogsDir, LogName(n.ID))}
	if err := os.MkdirAll(filepath.Dir(res.LogPath), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(res.LogPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fmt.Fprintf(f, "dsynth test log\nstart:     %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(out, "Testing %s (%s) in slot SL01; log: %s\n", n.ID, n.PkgName, res.LogPath)
	s, err := execute.OpenPortSlot(ctx, p, o.Isolator, n.ID, 1, f)
	if err != nil {
		fmt.Fprintf(f, "\n%v\n", err)
		return nil, err
	}
	torn := false
	defer func() {
		if !torn {
			s.Teardown()
		}
	}()
	t := &tester{s: s, n: n, res: res, out: out, pkgNode: n.ID == p.PkgNode}
	t.run(ctx)
	if ctx.Err() != nil {
		s.Teardown()
		return res, ctx.Err()
	}
	failed := res.Failed()
	s.Logf("\n=== dsynth test: %s ===\n", verdict(res))
	if len(failed) > 0 && o.Shell != nil {
		t.shell(ctx, o.Shell)
	}
	torn = true
	if err := s.Teardown(); err != nil {
		return res, err
	}
	return res, nil
}

func verdict(r *Result) string {
	f := r.Failed()
	if len(f) == 0 {
		skipped := 0
		for _, c := range r.Checks {
			if c.Status == Skipped {
				skipped++
			}
		}
		if skipped > 0 {
			return fmt.Sprintf("every check passed (%d passed, %d skipped)", len(r.Checks)-skipped, skipped)
		}
		return fmt.Sprintf("all %d checks passed", len(r.Checks))
	}
	return fmt.Sprintf("%d of %d checks failed: %s", len(f), len(r.Checks), strings.Join(f, ", "))
}

// Verdict is the one-line summary of r.
func Verdict(r *Result) string { return verdict(r) }

type tester struct {
	s   *execute.PortSlot
	n   *plan.Node
	res *Result
	out io.Writer
	// pkgNode: the port is ports-mgmt/pkg.
	pkgNode bool
}

// report records check c and prints it to the log and out.
func (t *tester) report(c Check) {
	t.res.Checks = append(t.res.Checks, c)
	var b strings.Builder
	label := map[string]string{Pass: "pass", Fail: "FAIL", Skipped: "skip"}[c.Status]
	line := fmt.Sprintf("  %-4s  %-11s  %s", label, c.Name, c.Note)
	b.WriteString(strings.TrimRight(line, " ") + "\n")
	for _, pr := range c.Problems {
		fmt.Fprintf(&b, "          %s\n", pr)
	}
	t.s.Logf("\n=== check %s: %s ===\n%s", c.Name, strings.ToUpper(c.Status), b.String())
	fmt.Fprint(t.out, b.String())
}

func (t *tester) skipRest(from int, why string) {
	for _, name := range Checks[from:] {
		t.report(Check{Name: name, Status: Skipped, Note: why})
	}
}

func status(st int, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("exit status %d", st)
}

// makeCheck runs target as check name; its problems are the target's
// "Error: " lines.
func (t *tester) makeCheck(ctx context.Context, name, target string) {
	var buf bytes.Buffer
	t.s.Logf("\n=== %s ===\n", target)
	st, err := t.s.Make(ctx, target, &buf)
	if err == nil && st == 0 {
		t.report(Check{Name: name, Status: Pass})
		return
	}
	c := Check{Name: name, Status: Fail, Note: target + " target: " + status(st, err), Problems: errorLines(buf.String())}
	if len(c.Problems) == 0 {
		// No "Error: " lines (a test suite): its last lines say why.
		c.Problems = tail(buf.String(), 5)
	}
	t.report(c)
}

// tail is the last n non-empty lines of out.
func tail(out string, n int) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines[max(len(lines)-n, 0):]
}

// errorLines are the "Error: " lines of out, without the prefix.
func errorLines(out string) []string {
	var p []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Error: "); ok {
			p = append(p, rest)
		}
	}
	return p
}

func (t *tester) run(ctx context.Context) {
	// build: the phases up to stage.
	stage := 0
	for i, ph := range execute.Phases {
		if ph == "stage" {
			stage = i
		}
	}
	for _, ph := range execute.Phases[:stage+1] {
		t.s.Logf("\n=== phase %s ===\n", ph)
		st, err := t.s.Make(ctx, ph, nil)
		if err != nil || st != 0 {
			t.report(Check{Name: CheckBuild, Status: Fail, Note: ph + " phase: " + status(st, err)})
			t.skipRest(1, "the build failed")
			return
		}
	}
	t.report(Check{Name: CheckBuild, Status: Pass})
	t.makeCheck(ctx, CheckTest, "test")
	if t.n.Meta || t.n.PkgFile == "" {
		t.skipRest(2, "meta port: no package")
		return
	}
	t.makeCheck(ctx, CheckPlist, "check-plist")
	t.makeCheck(ctx, CheckStageQA, "stage-qa")
	t.s.Logf("\n=== phase package ===\n")
	if st, err := t.s.Make(ctx, "package", nil); err != nil || st != 0 {
		t.report(Check{Name: CheckPackage, Status: Fail, Note: "package phase: " + status(st, err)})
		t.skipRest(5, "no package")
		return
	}
	t.report(Check{Name: CheckPackage, Status: Pass})
	t.leftovers(ctx)
}

// leftovers adds the package into LOCALBASE and deletes it again: what
// is there after, and was not before, is left over.
func (t *tester) leftovers(ctx context.Context) {
	localbase := "/usr/local"
	for _, e := range t.s.Env {
		if v, ok := strings.CutPrefix(e, "LOCALBASE="); ok && v != "" {
			localbase = v
		}
	}
	list := func() ([]string, error) {
		var b bytes.Buffer
		st, err := t.s.Run(ctx, []string{"/bin/sh", "-c", `find "$1" | LC_ALL=C sort`, "sh", localbase}, "listing "+localbase, &b)
		if err == nil && st != 0 {
			err = errors.New("listing " + localbase + ": " + status(st, err))
		}
		return strings.Split(strings.TrimSpace(b.String()), "\n"), err
	}
	fail := func(note string) {
		t.report(Check{Name: CheckLeftovers, Status: Fail, Note: note})
	}
	t.s.Logf("\n=== leftovers: listing %s ===\n", localbase)
	var lb bytes.Buffer
	before, err := list()
	if err != nil {
		fail(err.Error())
		return
	}
	pkgStatic := localbase + "/sbin/pkg-static"
	if t.pkgNode {
		// ports-mgmt/pkg itself: no pkg-static in the slot but the one
		// it staged.
		stagedir, err := t.s.Var(ctx, "STAGEDIR")
		if err != nil {
			fail(err.Error())
			return
		}
		pkgStatic = stagedir + pkgStatic
	}
	file := execute.SlotOutput + "/All/" + t.n.PkgFile
	t.s.Logf("\n=== leftovers: pkg-static add %s ===\n", file)
	if st, err := t.s.Run(ctx, []string{pkgStatic, "add", file}, "pkg-static add", &lb); err != nil || st != 0 {
		fail("pkg-static add " + t.n.PkgFile + ": " + status(st, err))
		return
	}
	t.s.Logf("\n=== leftovers: pkg-static delete %s ===\n", t.n.PkgName)
	if st, err := t.s.Run(ctx, []string{pkgStatic, "delete", "-y", t.n.PkgName}, "pkg-static delete", &lb); err != nil || st != 0 {
		fail("pkg-static delete " + t.n.PkgName + ": " + status(st, err))
		return
	}
	after, err := list()
	if err != nil {
		fail(err.Error())
		return
	}
	had := map[string]bool{}
	for _, f := range before {
		had[f] = true
	}
	var left []string
	for _, f := range after {
		if f != "" && !had[f] {
			left = append(left, f)
		}
	}
	if len(left) > 0 {
		c := Check{Name: CheckLeftovers, Status: Fail, Note: fmt.Sprintf("%d path(s) under %s left after pkg-static add and delete", len(left), localbase)}
		c.Problems = left
		t.report(c)
		return
	}
	t.report(Check{Name: CheckLeftovers, Status: Pass})
}

// shell runs an interactive /bin/sh in the slot, in the port's WRKDIR
// when it exists.
func (t *tester) shell(ctx context.Context, sh *Shell) {
	dir := "/"
	if w, err := t.s.Var(ctx, "WRKDIR"); err == nil && w != "" {
		if st, err := t.s.Run(ctx, []string{"test", "-d", w}, "test -d WRKDIR", nil); err == nil && st == 0 {
			dir = w
		}
	}
	fmt.Fprintf(sh.Stderr, "\n%s failed; a shell in slot SL01, in %s, with the build environment (make target: %s <target>).\nExit the shell to tear the slot down.\n",
		t.n.ID, dir, strings.Join(t.s.MakeArgs, " "))
	t.s.Logf("\n=== interactive shell in %s ===\n", dir)
	st, err := t.s.Shell(ctx, []string{"/bin/sh"}, dir, sh.Stdin, sh.Stdout, sh.Stderr)
	t.s.Logf("=== interactive shell ended: %s ===\n", status(st, err))
	fmt.Fprintf(sh.Stderr, "shell ended (%s); tearing slot SL01 down\n", status(st, err))
}
