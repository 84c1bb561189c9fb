package execute

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

// writeHook writes an executable shell script.
func writeHook(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// Hooks run on the host with C dsynth's environment, in event order; a
// failing, hanging or missing hook is logged and recorded and never fails
// or stalls the build.
func TestApplyHooks(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, "ports-mgmt/pkg build", "devel/lib build", "devel/fails build",
		"misc/needs-fails build build:devel/fails", "misc/broken ignored ignore=is_broken")
	out := filepath.Join(dir, "hooks.out")
	log := writeHook(t, dir, "log", `echo "$HOOK $RESULT $ORIGIN $FLAVOR $PKGNAME $PROFILE $DIR_PACKAGES $DIR_LOGS $STATS_BUILT $STATS_FAILED $STATS_SKIPPED $STATS_IGNORED" >> `+out+"\n")
	hang := writeHook(t, dir, "hang", "sleep 600\n")
	fail := writeHook(t, dir, "fail", "echo broken hook >&2; exit 7\n")
	env := func(name, prog string) string { return writeHook(t, dir, name, "HOOK="+name+" exec "+prog+"\n") }
	p.Settings.Hooks = &plan.Hooks{
		RunStart: env("run_start", log), RunEnd: env("run_end", log), PkgSuccess: env("pkg_success", log),
		PkgFailure: fail, PkgIgnored: hang, PkgSkipped: filepath.Join(dir, "missing"), Timeout: time.Second,
	}
	iso := newFake(p)
	iso.fail = map[string]string{"devel/fails": "build"}
	t0 := time.Now()
	sum, err := apply(context.Background(), Options{Plan: planFile(t, p), Isolator: iso, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != record.RunFailed || sum.Counts.Built != 2 || sum.Counts.Failed != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if d := time.Since(t0); d > 20*time.Second {
		t.Errorf("apply took %s with a hanging hook", d)
	}
	b, _ := os.ReadFile(out)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	pk := p.Settings.PackagesDir
	want := []string{
		"run_start     test " + pk + " " + p.Settings.LogsDir + "",
		"pkg_success success ports-mgmt/pkg  pkg-1.0 test " + pk + " " + p.Settings.LogsDir + "",
		"pkg_success success devel/lib  lib-1.0 test " + pk + " " + p.Settings.LogsDir + "",
		"run_end failed    test " + pk + " " + p.Settings.LogsDir + " 2 1 1 1",
	}
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	for i := range want {
		want[i] = strings.TrimRight(want[i], " ")
	}
	if !slices.Equal(lines, want) {
		t.Errorf("hook runs:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	db := openRecords(t, p)
	run, err := db.Run(sum.RunID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range run.Hooks {
		got[h.Hook+" "+h.Origin] = h.Status
	}
	for k, v := range map[string]string{"run_start ": "ok", "pkg_success devel/lib": "ok", "pkg_failure devel/fails": "failed",
		"pkg_ignored misc/broken": "timeout", "pkg_skipped misc/needs-fails": "failed", "run_end ": "ok"} {
		if got[k] != v {
			t.Errorf("recorded hook %q: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	hl, _ := os.ReadFile(filepath.Join(p.Settings.LogsDir, "hooks.log"))
	if !strings.Contains(string(hl), "broken hook") || !strings.Contains(string(hl), "killed after 1s") {
		t.Errorf("hooks.log:\n%s", hl)
	}
}

// Summary logs 05-07: abnormal output (warnings, dsynth's own steps that
// failed), obsolete packages, and the debug timeline.
func TestApplySummaryLogs05to07(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, "ports-mgmt/pkg build", "devel/lib build")
	all := filepath.Join(p.Settings.PackagesDir, "All")
	if err := os.MkdirAll(all, 0o755); err != nil {
		t.Fatal(err)
	}
	// An old package the records tie to devel/lib, and a stray file no
	// record names (kept: this plan is not of the whole tree).
	for _, f := range []string{"lib-0.9.pkg", "stray-1.0.pkg"} {
		if err := os.WriteFile(filepath.Join(all, f), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err := record.Open(p.Settings.Records, record.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Write(func(tx *record.Tx) error {
		return tx.PutAttempt(&record.Attempt{ID: "old", RunID: "old-run", NodeID: "devel/lib", Origin: "devel/lib",
			Status: record.AttemptSuccess, PkgFile: "lib-0.9.pkg", Start: time.Now().Add(-time.Hour)})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	p.Settings.Hooks = &plan.Hooks{RunStart: writeHook(t, dir, "fails", "exit 3\n"), Timeout: time.Second}
	if _, err := apply(context.Background(), Options{Plan: planFile(t, p), Isolator: newFake(p), Workers: 1}); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(p.Settings.LogsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if s := read(LogAbnormal); !strings.Contains(s, "hook run_start") || !strings.Contains(s, "exit status 3") {
		t.Errorf("%s:\n%s", LogAbnormal, s)
	}
	if s := read(LogObsolete); !strings.Contains(s, "\nlib-0.9.pkg (old package of devel/lib, which now makes lib-1.0.pkg)\n") ||
		strings.Contains(s, "lib-1.0.pkg (") || strings.Contains(s, "stray") {
		t.Errorf("%s:\n%s", LogObsolete, s)
	}
	if s := read(LogDebug); !strings.Contains(s, "devel/lib 1.0 worker=0") || !strings.Contains(s, " build=") {
		t.Errorf("%s:\n%s", LogDebug, s)
	}
}
