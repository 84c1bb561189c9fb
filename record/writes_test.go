package record

import (
	"path/filepath"
	"testing"
	"time"
)

// TestFinishAttempt: the end of a build writes the attempt, the worker
// and, only for a package that becomes the latest, its CRC index entry
// and package record, in one call.
func TestFinishAttempt(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	run := &Run{ID: "r", Status: RunRunning, Start: t0}
	if err := db.SaveRun(run); err != nil {
		t.Fatal(err)
	}
	w := &Worker{RunID: "r", Worker: 0, State: "building", NodeID: "devel/a"}
	a := &Attempt{ID: "a1", RunID: "r", NodeID: "devel/a", Origin: "devel/a", Status: AttemptBuilding, Start: t0}
	if err := db.StartAttempt(a, w); err != nil {
		t.Fatal(err)
	}
	// A failed build: no package, no CRC entry.
	a.Status, a.End = AttemptFailed, t0.Add(time.Minute)
	if err := db.FinishAttempt(Finished{Attempt: a, Worker: w}); err != nil {
		t.Fatal(err)
	}
	if pk, _ := db.Packages(); len(pk) != 0 {
		t.Fatalf("a failed build wrote packages %v", pk)
	}
	// A successful one: attempt, worker, CRC index and package together.
	b := &Attempt{ID: "a2", RunID: "r", NodeID: "devel/a", Origin: "devel/a", Status: AttemptSuccess, Start: t0, End: t0.Add(time.Hour)}
	lost := &Attempt{ID: "a0", RunID: "r", NodeID: "devel/a", Origin: "devel/a", Status: AttemptInterrupted, Start: t0, End: t0}
	w.State, w.Built = "idle", 1
	pkg := &Package{NodeID: "devel/a", InputKey: "k", CRC32: "0000abcd", PkgFile: "a-1.pkg", AttemptID: "a2", RunID: "r"}
	if err := db.FinishAttempt(Finished{Attempt: b, Lost: []*Attempt{lost}, Worker: w, Latest: pkg}); err != nil {
		t.Fatal(err)
	}
	crcs, _ := db.CRCIndex()
	pk, _ := db.Packages()
	if crcs["devel/a"].InputKey != "k" || crcs["devel/a"].CRC32 != "0000abcd" || pk["devel/a"].PkgFile != "a-1.pkg" {
		t.Fatalf("crc %+v, packages %+v", crcs, pk)
	}
	atts, _ := db.RunAttempts("r")
	ws, _ := db.RunWorkers("r")
	if len(atts) != 3 || len(ws) != 1 || ws[0].Built != 1 {
		t.Fatalf("attempts %d, workers %+v", len(atts), ws)
	}
	// A package of another node is refused, and nothing of it lands.
	c := &Attempt{ID: "a3", RunID: "r", NodeID: "devel/b", Origin: "devel/b", Status: AttemptSuccess, Start: t0}
	if err := db.FinishAttempt(Finished{Attempt: c, Latest: pkg}); err == nil {
		t.Fatal("a package of another node was recorded")
	}
	if _, err := db.Attempt("a3"); err == nil {
		t.Fatal("a refused finish wrote its attempt")
	}
	// The run's process died: building attempts end interrupted with it.
	d := &Attempt{ID: "a4", RunID: "r", NodeID: "devel/c", Origin: "devel/c", Status: AttemptBuilding, Start: t0.Add(2 * time.Hour)}
	if err := db.SaveAttempts(d); err != nil {
		t.Fatal(err)
	}
	end := t0.Add(90 * time.Minute)
	if err := db.MarkCrashed(run, []*Attempt{b, d}, end, "process 1 died"); err != nil {
		t.Fatal(err)
	}
	r, _ := db.Run("r")
	dd, _ := db.Attempt("a4")
	bb, _ := db.Attempt("a2")
	if r.Status != RunCrashed || !r.End.Equal(end) || dd.Status != AttemptInterrupted || !dd.End.Equal(dd.Start) || bb.Status != AttemptSuccess {
		t.Fatalf("crashed run %s %s, building attempt %s %s, finished one %s", r.Status, r.End, dd.Status, dd.End, bb.Status)
	}
}
