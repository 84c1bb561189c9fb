package main

// End-to-end tests: the dsynth binary plans and applies the testdata/ports/good
// tree in real slots (as root; skipped otherwise).

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/record"
)

var e2eBin string

// e2eSetup builds the binary once and copies the good tree into a fresh
// directory with a profile building targets.
func e2eSetup(t *testing.T, targets ...string) (dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("end-to-end apply tests need root (namespaces, mounts, chroot)")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	if _, err := exec.LookPath("bmake"); err != nil {
		t.Skip("bmake not installed")
	}
	buildE2EBin(t)
	dir = t.TempDir()
	tree := filepath.Join(dir, "ports")
	if out, err := exec.Command("cp", "-a", "../../testdata/ports/good", tree).CombinedOutput(); err != nil {
		t.Fatalf("copy tree: %v\n%s", err, out)
	}
	q := make([]string, len(targets))
	for i, s := range targets {
		q[i] = fmt.Sprintf("%q", s)
	}
	prof := fmt.Sprintf(`profile "e2e" {
  ports_dir  = "ports"
  build_base = "base"
  ports      = [%s]
  workers {
    count    = 2
    max_jobs = 1
    throttle = false
  }
  environment {
    network = "none"
  }
}
`, strings.Join(q, ", "))
	if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(prof), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// buildE2EBin builds the dsynth binary once per test process (removed by
// TestMain).
func buildE2EBin(t testing.TB) {
	t.Helper()
	if e2eBin != "" {
		return
	}
	bin := filepath.Join(os.TempDir(), fmt.Sprintf("dsynth-e2e-%d", os.Getpid()))
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	e2eBin = bin
}

// dsynth runs the binary in dir and returns its output and exit code.
func dsynth(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(e2eBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("dsynth %v: %v", args, err)
	}
	return out.String(), code
}

func mustCode(t *testing.T, out string, code, want int, what string) {
	t.Helper()
	if code != want {
		t.Fatalf("%s: exit %d, want %d\n%s", what, code, want, out)
	}
}

func e2eRecords(t *testing.T, dir string) *record.DB {
	t.Helper()
	db, err := record.Open(filepath.Join(dir, "base", "records.db"), record.Options{ReadOnly: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// noLeftovers checks that no slot directory or mount is left in base.
func noLeftovers(t *testing.T, base string) {
	t.Helper()
	m, _ := os.ReadFile("/proc/self/mountinfo")
	if bytes.Contains(m, []byte(base)) {
		t.Errorf("mounts left under %s:\n%s", base, m)
	}
	if sl, _ := filepath.Glob(filepath.Join(base, "SL*")); len(sl) > 0 {
		t.Errorf("slot directories left: %v", sl)
	}
}

func TestE2EBuildFailIgnoreStaleCorrupt(t *testing.T) {
	dir := e2eSetup(t, "misc/meta-all", "misc/needs-fails", "sysutils/needs-ignored")
	base := filepath.Join(dir, "base")
	out, code := dsynth(t, dir, "plan", "-out", "plan.json", "p.hcl")
	mustCode(t, out, code, 0, "plan")
	out, code = dsynth(t, dir, "apply", "plan.json")
	mustCode(t, out, code, exitFailed, "apply")
	for _, s := range []string{"FAILED   devel/fails in build phase", "skipped  misc/needs-fails: devel/fails failed in build phase",
		"ignored  sysutils/ignored", "8 built, 1 failed, 2 skipped, 1 ignored, 0 up to date"} {
		if !strings.Contains(out, s) {
			t.Errorf("apply output lacks %q:\n%s", s, out)
		}
	}
	noLeftovers(t, base)

	db := e2eRecords(t, dir)
	run, err := db.Run("last")
	if err != nil || run.Status != record.RunFailed || run.Counts.Built != 8 {
		t.Fatalf("run: %+v %v", run, err)
	}
	pk, _ := db.Packages()
	for _, id := range []string{"ports-mgmt/pkg", "devel/libmini", "misc/minicat", "misc/optioned", "textproc/tl-app-v1", "lang/tinylang@v1", "devel/tl-module@v1"} {
		p, ok := pk[id]
		if !ok {
			t.Errorf("no package record for %s", id)
			continue
		}
		sum, _, err := fileSHA(filepath.Join(base, "packages", "All", p.PkgFile))
		if err != nil || sum != p.SHA256 {
			t.Errorf("%s: package %s sha %s, record %s (%v)", id, p.PkgFile, sum, p.SHA256, err)
		}
	}
	h, _ := db.History("misc/minicat")
	if len(h) != 1 || len(h[0].DepsInstalled) != 1 || h[0].DepsInstalled[0] != "libmini-1.2.pkg" {
		t.Errorf("minicat attempt deps: %+v", h)
	}
	db.Close()
	// The package really holds the program built against libmini.
	list, err := exec.Command("tar", "-tf", filepath.Join(base, "packages", "All", "minicat-0.9_1.pkg")).CombinedOutput()
	if err != nil || !strings.Contains(string(list), "usr/local/bin/minicat") {
		t.Errorf("minicat package: %v\n%s", err, list)
	}
	log, _ := os.ReadFile(filepath.Join(base, "logs", "devel___fails.log"))
	if !strings.Contains(string(log), "=== phase build: FAILED") {
		t.Errorf("fails log:\n%s", log)
	}
	out, code = dsynth(t, dir, "show", "last")
	mustCode(t, out, code, 0, "show last")
	if !strings.Contains(out, "failed in build") || !strings.Contains(out, "10 of 12 ports went as planned") {
		t.Errorf("show last:\n%s", out)
	}

	// A stale plan is refused, naming the port.
	out, code = dsynth(t, dir, "plan", "-out", "plan2.json", "p.hcl")
	mustCode(t, out, code, 0, "plan 2")
	f, _ := os.OpenFile(filepath.Join(dir, "ports", "devel", "fails", "Makefile"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("# changed\n")
	f.Close()
	out, code = dsynth(t, dir, "apply", "plan2.json")
	mustCode(t, out, code, exitError, "stale apply")
	if !strings.Contains(out, "stale") || !strings.Contains(out, "devel/fails") {
		t.Errorf("stale apply output:\n%s", out)
	}

	// A corrupted records file is reported clearly; packages stay.
	before, _ := os.ReadDir(filepath.Join(base, "packages", "All"))
	os.WriteFile(filepath.Join(base, "records.db"), bytes.Repeat([]byte("not a bbolt file "), 1000), 0o644)
	out, code = dsynth(t, dir, "apply", "-auto-approve", "p.hcl")
	mustCode(t, out, code, exitError, "apply with corrupted records")
	if !strings.Contains(out, "looks corrupted") || !strings.Contains(out, "untouched") {
		t.Errorf("corrupted records output:\n%s", out)
	}
	out, code = dsynth(t, dir, "history", "misc/minicat")
	mustCode(t, out, code, exitError, "history with corrupted records")
	after, _ := os.ReadDir(filepath.Join(base, "packages", "All"))
	if len(after) != len(before) || len(after) != 7 {
		t.Errorf("packages before %d, after %d", len(before), len(after))
	}
}

func fileSHA(path string) (string, int64, error) {
	out, err := exec.Command("sha256sum", path).Output()
	if err != nil {
		return "", 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", 0, err
	}
	return strings.Fields(string(out))[0], st.Size(), nil
}

// startApply starts `dsynth apply args` in the background.
func startApply(t *testing.T, dir string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(e2eBin, append([]string{"apply"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// waitBuilding waits until the live status shows node building.
func waitBuilding(t *testing.T, base, node string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if s, err := execute.ReadStatus(base); err == nil {
			for _, w := range s.Workers {
				if w.Node == node && w.Phase != "start" {
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never started building", node)
}

func exitOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return -1000
	}
	return 0
}

func TestE2EInterruptResumeKillRecover(t *testing.T) {
	dir := e2eSetup(t, "misc/minicat")
	base := filepath.Join(dir, "base")
	out, code := dsynth(t, dir, "plan", "-out", "plan.json", "p.hcl")
	mustCode(t, out, code, 0, "plan")

	// Interrupt while devel/libmini builds; read the records meanwhile.
	cmd, aout := startApply(t, dir, "plan.json")
	waitBuilding(t, base, "devel/libmini")
	t0 := time.Now()
	sout, code := dsynth(t, dir, "status", "p.hcl")
	mustCode(t, sout, code, 0, "status during apply")
	if !strings.Contains(sout, "is running") || !strings.Contains(sout, "devel/libmini") {
		t.Errorf("status during apply:\n%s", sout)
	}
	shout, code := dsynth(t, dir, "show", "last")
	mustCode(t, shout, code, 0, "show during apply")
	lout, code := dsynth(t, dir, "apply", "plan.json")
	mustCode(t, lout, code, exitError, "second apply on the same build base")
	if !strings.Contains(lout, fmt.Sprintf("build base is in use by dsynth process %d", cmd.Process.Pid)) {
		t.Errorf("second apply:\n%s", lout)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("reading while applying took %s", d)
	}
	cmd.Process.Signal(os.Interrupt)
	if c := exitOf(cmd.Wait()); c != exitError {
		t.Fatalf("interrupted apply exit %d\n%s", c, aout)
	}
	if !strings.Contains(aout.String(), "interrupted") {
		t.Errorf("interrupted apply output:\n%s", aout)
	}
	noLeftovers(t, base)
	db := e2eRecords(t, dir)
	run, _ := db.Run("last")
	h, _ := db.History("devel/libmini")
	db.Close()
	if run.Status != record.RunInterrupted || len(h) != 1 || h[0].Status != record.AttemptInterrupted {
		t.Fatalf("after interrupt: run %s, libmini %+v", run.Status, h)
	}
	if res, _ := os.ReadFile(filepath.Join(base, "logs", "00_last_results.log")); !regexp.MustCompile(`interrupted +devel/libmini`).Match(res) {
		t.Errorf("00_last_results.log has no line for the interrupted port:\n%s", res)
	}

	// Resume: ports-mgmt/pkg is not rebuilt.
	out, code = dsynth(t, dir, "apply", "plan.json")
	mustCode(t, out, code, 0, "resumed apply")
	if !strings.Contains(out, "current  ports-mgmt/pkg") || !strings.Contains(out, "2 built, 0 failed, 0 skipped, 0 ignored, 1 up to date") {
		t.Errorf("resumed apply:\n%s", out)
	}
	out, code = dsynth(t, dir, "apply", "-auto-approve", "p.hcl")
	mustCode(t, out, code, 0, "up-to-date apply")
	if !strings.Contains(out, "Nothing to build: 3 ports up to date") {
		t.Errorf("second apply:\n%s", out)
	}

	// SIGKILL during a build, then recovery by status and the next apply.
	out, code = dsynth(t, dir, "plan", "-force", "misc/minicat", "-out", "force.json", "p.hcl")
	mustCode(t, out, code, 0, "plan -force")
	cmd, aout = startApply(t, dir, "force.json")
	waitBuilding(t, base, "misc/minicat")
	cmd.Process.Kill()
	cmd.Wait()
	time.Sleep(200 * time.Millisecond)
	out, code = dsynth(t, dir, "status", "p.hcl")
	mustCode(t, out, code, 0, "status after kill")
	if !strings.Contains(out, "marked crashed") {
		t.Errorf("status after SIGKILL:\n%s\napply output:\n%s", out, aout)
	}
	noLeftovers(t, base)
	out, code = dsynth(t, dir, "apply", "force.json")
	mustCode(t, out, code, 0, "apply after crash")
	noLeftovers(t, base)
	// That run completed: the same forced plan builds its port again.
	out, code = dsynth(t, dir, "apply", "force.json")
	mustCode(t, out, code, 0, "forced plan applied again")
	if !strings.Contains(out, "built    misc/minicat") {
		t.Errorf("forced plan applied again after a complete run:\n%s", out)
	}
	db = e2eRecords(t, dir)
	runs, _ := db.Runs()
	db.Close()
	var st []string
	for _, r := range runs {
		st = append(st, r.Status)
	}
	if strings.Join(st, ",") != "interrupted,success,crashed,success,success" {
		t.Errorf("run statuses %v", st)
	}
}
