package execute

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/isolate/lock"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

func TestExpectedDurations(t *testing.T) {
	of := ExpectedDurations(map[string]time.Duration{
		"devel/a":    10 * time.Second,
		"lang/p@py3": 30 * time.Second,
		"lang/p@py2": 20 * time.Second,
		"misc/m":     5 * time.Second,
		"misc/m@x11": 50 * time.Second,
	})
	for _, tc := range []struct {
		id   string
		want time.Duration
	}{
		{"devel/a", 10 * time.Second},       // its own history
		{"lang/p@py2", 20 * time.Second},    // its own, not the longest flavor
		{"lang/p@py4", 30 * time.Second},    // new flavor: longest of the origin
		{"lang/p", 30 * time.Second},        // default flavor without history
		{"misc/m", 5 * time.Second},         // its own beats the other flavor
		{"devel/a@nox11", 10 * time.Second}, // flavor of an origin seen unflavored
		{"devel/new", 0},                    // unknown
	} {
		if got := of(tc.id); got != tc.want {
			t.Errorf("expected duration of %s = %s, want %s", tc.id, got, tc.want)
		}
	}
}

// TestRecoverCrashedByLock: a run is alive only while its process holds
// the build base's lock. A "running" run whose PID is alive (here: this
// very process, as after PID reuse) but which holds no lock is crashed, and
// it and its port end at their last recorded activity.
func TestRecoverCrashedByLock(t *testing.T) {
	dir := t.TempDir()
	base, records := filepath.Join(dir, "base"), filepath.Join(dir, "records.db")
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	host, _ := os.Hostname()
	run := &record.Run{ID: "r1", BuildBase: base, Status: record.RunRunning, PID: os.Getpid(), Host: host, Start: t0}
	at := &record.Attempt{ID: "a1", RunID: "r1", NodeID: "devel/x", Origin: "devel/x", Status: record.AttemptBuilding,
		Start: t0.Add(time.Second), Phases: []record.Phase{{Name: "build", Start: t0.Add(2 * time.Second), End: t0.Add(9 * time.Second)}}}
	db, err := record.Open(records, record.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Write(func(tx *record.Tx) error {
		if err := tx.PutRun(run); err != nil {
			return err
		}
		return tx.PutAttempt(at)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	// While this process holds the lock, the run is alive.
	release, err := lock.TryLock(base, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := recoverCrashed(records, base); err != nil || len(got) != 0 {
		t.Fatalf("with the lock held: %d recovered, %v", len(got), err)
	}
	release()

	got, err := recoverCrashed(records, base)
	if err != nil || len(got) != 1 {
		t.Fatalf("without the lock: %d recovered, %v", len(got), err)
	}
	db, err = record.Open(records, record.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, _ := db.Run("r1")
	a, _ := db.Attempt("a1")
	end := t0.Add(9 * time.Second)
	if r.Status != record.RunCrashed || !r.End.Equal(end) || a.Status != record.AttemptInterrupted || !a.End.Equal(end) {
		t.Errorf("recovered run %s ending %s, attempt %s ending %s; want crashed/interrupted ending %s", r.Status, r.End, a.Status, a.End, end)
	}
}

func TestHostDirs(t *testing.T) {
	dir := t.TempDir()
	prof := &plan.Settings{DistfilesDir: filepath.Join(dir, "distfiles"), PackagesDir: filepath.Join(dir, "packages")}
	prof.Environment.Mounts = []plan.Mount{{Target: "/var/cache/ccache", Source: filepath.Join(dir, "ccache")}}
	if err := hostDirs(prof); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"distfiles", "packages/All", "ccache"} {
		if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s not created: %v", d, err)
		}
	}
	prof.Environment.Mounts = append(prof.Environment.Mounts, plan.Mount{Target: "/usr/src", Source: filepath.Join(dir, "src"), ReadOnly: true})
	if err := hostDirs(prof); err == nil || !strings.Contains(err.Error(), `mount "/usr/src": its source `+filepath.Join(dir, "src")+" does not exist") {
		t.Errorf("read-only mount of a missing source: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "src")); err == nil {
		t.Error("the source of a read-only mount was created")
	}
}
