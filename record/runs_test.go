package record

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "records.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestRunsAndAttempts(t *testing.T) {
	db := openTemp(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r1 := &Run{ID: "aaaa1111-0000", PlanDigest: "d1", Plan: []byte("plan bytes"), Start: t0, Status: RunRunning}
	r2 := &Run{ID: "bbbb2222-0000", PlanDigest: "d1", Start: t0.Add(time.Hour), Status: RunRunning}
	for _, r := range []*Run{r2, r1} {
		if err := db.SaveRun(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.UpdateRun(r1.ID, func(r *Run) error {
		r.Status, r.End, r.Counts.Built = RunSuccess, t0.Add(30*time.Minute), 2
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ arg, want string }{{"last", r2.ID}, {"aaaa", r1.ID}, {r2.ID, r2.ID}} {
		r, err := db.Run(tc.arg)
		if err != nil || r.ID != tc.want {
			t.Errorf("Run(%q) = %v, %v; want %s", tc.arg, r, err, tc.want)
		}
	}
	if _, err := db.Run("zzzz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Run(zzzz) err = %v", err)
	}
	r, _ := db.Run(r1.ID)
	if string(r.Plan) != "plan bytes" || r.Counts.Built != 2 || r.Duration() != 30*time.Minute {
		t.Errorf("run round trip: %+v", r)
	}

	atts := []*Attempt{
		{ID: "a1", RunID: r1.ID, NodeID: "devel/a", Origin: "devel/a", Status: AttemptSuccess, Start: t0, End: t0.Add(10 * time.Second), Worker: 0},
		{ID: "a2", RunID: r1.ID, NodeID: "lang/p@py3", Origin: "lang/p", Flavor: "py3", Status: AttemptFailed, Start: t0.Add(time.Second), End: t0.Add(41 * time.Second), Worker: 1},
		{ID: "a3", RunID: r2.ID, NodeID: "lang/p@py2", Origin: "lang/p", Flavor: "py2", Status: AttemptSuccess, Start: t0.Add(time.Hour), End: t0.Add(time.Hour + 5*time.Second), Worker: 1},
		{ID: "a4", RunID: r2.ID, NodeID: "devel/a", Origin: "devel/a", Status: AttemptSuccess, Start: t0.Add(2 * time.Hour), End: t0.Add(2*time.Hour + 20*time.Second)},
		{ID: "a5", RunID: r2.ID, NodeID: "x/y", Origin: "x/y", Status: AttemptSkipped, Error: "skipped: lang/p failed"},
	}
	for _, a := range atts {
		if err := db.bolt.Update(func(tx *bolt.Tx) error { return putAttempt(tx, a) }); err != nil {
			t.Fatal(err)
		}
	}
	// Overwriting does not duplicate the index.
	atts[0].SHA256 = "abc"
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return putAttempt(tx, atts[0]) }); err != nil {
		t.Fatal(err)
	}
	ids := func(as []*Attempt) (s []string) {
		for _, a := range as {
			s = append(s, a.ID)
		}
		return s
	}
	check := func(name string, got []*Attempt, err error, want ...string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g := ids(got); len(g) != len(want) || (len(g) > 0 && func() bool {
			for i := range g {
				if g[i] != want[i] {
					return true
				}
			}
			return false
		}()) {
			t.Errorf("%s = %v, want %v", name, g, want)
		}
	}
	got, err := db.RunAttempts(r1.ID)
	check("RunAttempts(r1)", got, err, "a1", "a2")
	got, err = db.History("lang/p")
	check("History(lang/p)", got, err, "a2", "a3")
	got, err = db.History("lang/p@py2")
	check("History(lang/p@py2)", got, err, "a3")
	got, err = db.History("devel/a")
	check("History(devel/a)", got, err, "a1", "a4")
	got, err = db.AttemptsSince(t0.Add(30 * time.Minute))
	check("AttemptsSince", got, err, "a3", "a4", "a5") // a5 never started: indexed at creation (now)
	if a, err := db.Attempt("a1"); err != nil || a.SHA256 != "abc" {
		t.Errorf("Attempt(a1) = %+v, %v", a, err)
	}
	exp, err := db.ExpectedDurations()
	if err != nil || exp["devel/a"] != 20*time.Second || exp["lang/p@py2"] != 5*time.Second || len(exp) != 2 {
		t.Errorf("ExpectedDurations = %v, %v", exp, err)
	}

	runs, _ := db.Runs()
	all, _ := db.AttemptsSince(time.Time{})
	s := ComputeStats(runs, all, time.Time{}, 2)
	if s.Attempts != 5 || s.Success != 3 || s.Failed != 1 || s.Skipped != 1 {
		t.Errorf("stats counts: %+v", s)
	}
	if s.SuccessRate != 0.75 || s.TotalBuild != 75*time.Second || len(s.Slowest) != 2 || s.Slowest[0].NodeID != "lang/p@py3" {
		t.Errorf("stats: %+v", s)
	}
	if s.Busiest == nil || s.Busiest.Worker != 1 || s.Busiest.Builds != 2 {
		t.Errorf("busiest: %+v", s.Busiest)
	}
}

func TestWorkers(t *testing.T) {
	db := openTemp(t)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for i := 2; i >= 0; i-- {
			if err := putWorker(tx, &Worker{RunID: "r", Worker: i, State: "idle", Built: i}); err != nil {
				return err
			}
		}
		if err := putWorker(tx, &Worker{RunID: "s", Worker: 0}); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := db.RunWorkers("r")
	if err != nil || len(ws) != 3 || ws[0].Worker != 0 || ws[2].Built != 2 {
		t.Errorf("RunWorkers = %v, %v", ws, err)
	}
}

// TestLiveCounts: a run still running reads with the counts of its
// attempts so far, whichever query reads it; an ended run keeps its own.
func TestLiveCounts(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now().UTC()
	r := &Run{ID: "run-live", Start: t0, Status: RunRunning, Counts: Counts{Planned: 5}}
	err = db.Write(func(tx *Tx) error {
		if err := tx.PutRun(r); err != nil {
			return err
		}
		for i, st := range []string{AttemptSuccess, AttemptSuccess, AttemptFailed, AttemptBuilding} {
			if err := tx.PutAttempt(&Attempt{ID: fmt.Sprint("a", i), RunID: r.ID, NodeID: fmt.Sprint("n/", i), Status: st, Start: t0.Add(time.Duration(i) * time.Second)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Planned: 5, Built: 2, Failed: 1}
	byRun, _ := db.Run("run-live")
	sums, _ := db.RunSummaries()
	res, _ := db.ResolveRun("last")
	for name, got := range map[string]*Run{"Run": byRun, "RunSummaries": sums[0], "ResolveRun": res} {
		if got == nil || got.Counts != want {
			t.Errorf("%s: %+v, want counts %+v", name, got, want)
		}
	}
	r.Status, r.Counts = RunFailed, Counts{Planned: 5, Built: 2, Failed: 2}
	db.Write(func(tx *Tx) error { return tx.PutRun(r) })
	if got, _ := db.Run("run-live"); got.Counts != r.Counts {
		t.Errorf("an ended run: %+v", got.Counts)
	}
}
