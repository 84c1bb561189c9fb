package plan

import (
	"bytes"
	"encoding/gob"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/plan/portscan"
)

// TestMain runs every test of the package with the plan memo checked: a
// reused plan is compared with a fresh one, and any difference fails the
// Create that reused it.
func TestMain(m *testing.M) {
	os.Setenv(memoEnv, "check")
	os.Exit(m.Run())
}

// trustClock makes every file of the test older than the racy window
// (as if the plans ran an hour later), so that a memo's signatures
// vouch for content; it returns what restores the clock.
func trustClock(t *testing.T) {
	memoNow = func() time.Time { return time.Now().Add(time.Hour) }
	t.Cleanup(func() { memoNow = time.Now })
}

// TestMemoReuse plans a tree, changes one input after another and checks
// that each re-plan reuses the last plan exactly when nothing it was
// made from changed, and is the plan a memo-less Create makes either way.
func TestMemoReuse(t *testing.T) {
	trustClock(t)
	tree := miniTree(t)
	base := t.TempDir()
	prof := testProfile(tree, base, "all")
	db := openDB(t, base)
	enc := func(p *Plan) []byte {
		b, err := Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var last *Stats
	plan := func(step string, wantReused bool, wantReread int) *Plan {
		t.Helper()
		p, st := mustCreate(t, Options{Profile: prof, DB: db})
		if st.Reused != wantReused || (wantReused && st.Reread != wantReread) {
			t.Fatalf("%s: reused %v (reread %d), want %v (reread %d)", step, st.Reused, st.Reread, wantReused, wantReread)
		}
		last = st
		t.Setenv(memoEnv, "off")
		fresh, _ := mustCreate(t, Options{Profile: prof, DB: db})
		t.Setenv(memoEnv, "check")
		if !bytes.Equal(enc(p), enc(fresh)) {
			t.Fatalf("%s: the plan differs from a fresh one", step)
		}
		return p
	}
	plan("cold", false, 0)
	memo := memoPath(db.Path(), prof.Name)
	if _, err := os.Stat(memo); err != nil {
		t.Fatalf("no memo after a plan: %v", err)
	}
	if p := plan("unchanged", true, 0); len(p.Ports) != 8 {
		t.Fatalf("reused plan has %d nodes", len(p.Ports))
	}
	later := time.Now().Add(time.Minute)
	makefile := filepath.Join(tree, "devel/lib/Makefile")
	if err := os.Chtimes(makefile, later, later); err != nil {
		t.Fatal(err)
	}
	plan("touched, same content", true, 1)
	plan("touched: a few re-reads do not rewrite the memo", true, 1)
	rewriteAfter = 1
	t.Cleanup(func() { rewriteAfter = 64 })
	plan("touched: read again, the memo rewritten", true, 1)
	plan("after the rewrite", true, 0)

	// Each change makes a fresh plan; those that keep the settings and
	// the framework take the loads of unchanged ports from the memo
	// (fromMemo: how many ports loaded again, -1 for all of them).
	steps := []struct {
		name     string
		reloaded int
		why      string // Stats.NotReused
		change   func()
	}{
		{"port Makefile edited", 1, "1 port changed (devel/lib)", func() { appendFile(t, makefile, "# a comment\n") }},
		{"file added to a port", 1, "1 port changed (devel/lib)", func() {
			writeFiles(t, tree, map[string]string{"devel/lib/files/patch-b": "b\n"})
		}},
		{"file removed from a port", 1, "1 port changed (devel/lib)", func() { remove(t, filepath.Join(tree, "devel/lib/files/patch-b")) }},
		{"options file created", 1, "1 port changed (devel/lib)", func() {
			writeFiles(t, prof.OptionsDir, map[string]string{"devel_lib/options": "OPTIONS_FILE_SET+=X11\n"})
		}},
		{"new port", 1, "the list of ports changed", func() {
			writeFiles(t, tree, map[string]string{"misc/new/Makefile": "PORTNAME=new\nPORTVERSION=1\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n"})
		}},
		{"new category", 1, "the list of ports changed", func() {
			writeFiles(t, tree, map[string]string{"games/x/Makefile": "PORTNAME=x\nPORTVERSION=1\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n"})
		}},
		{"port gone", 0, "the list of ports changed", func() { remove(t, filepath.Join(tree, "games")) }},
		{"framework edited", -1, "the framework changed, so every port is loaded again", func() {
			appendFile(t, filepath.Join(tree, "Mk/bsd.port.mk"), "# a comment\n")
		}},
		{"records changed", 0, "the package records changed", func() {
			p, _ := mustCreate(t, Options{Profile: prof})
			markBuilt(t, db, p)
		}},
		{"package removed", 0, "lib-3.1.pkg changed", func() { remove(t, filepath.Join(prof.PackagesDir, "All", "lib-3.1.pkg")) }},
		{"profile changed", -1, "the settings, environment changed, so every port is loaded again", func() {
			prof.MakeConf = map[string]string{"CFLAGS": "-O3"}
		}},
		{"memo corrupt", -1, "its memo could not be read", func() {
			rewrite(t, memo, func(b []byte) []byte { b[len(b)/2] ^= 0x55; return b })
		}},
		{"memo truncated", -1, "its memo could not be read", func() {
			rewrite(t, memo, func(b []byte) []byte { return b[:len(b)-len(b)/3] })
		}},
	}
	for _, s := range steps {
		s.change()
		plan(s.name, false, 0)
		if want := last.Loads - s.reloaded; (s.reloaded < 0 && last.FromMemo != 0) || (s.reloaded >= 0 && last.FromMemo != want) {
			t.Errorf("%s: %d of %d loads from the memo, want %d loaded again", s.name, last.FromMemo, last.Loads, s.reloaded)
		}
		if !strings.Contains(last.NotReused, s.why) {
			t.Errorf("%s: not reused because %q, want %q", s.name, last.NotReused, s.why)
		}
		plan(s.name+", again", true, 0)
		if last.NotReused != "" {
			t.Errorf("%s, again: reused, yet NotReused is %q", s.name, last.NotReused)
		}
	}
}

// TestMemoRacy: files changed within racySlack of a plan are marked racy
// in its memo and read again by content when it is reused.
func TestMemoRacy(t *testing.T) {
	tree := miniTree(t)
	// The plan starts when the tree was written (however slow the
	// machine is): every file is within the racy window.
	written := time.Now()
	memoNow = func() time.Time { return written }
	t.Cleanup(func() { memoNow = time.Now })
	base := t.TempDir()
	prof := testProfile(tree, base, "all")
	db := openDB(t, base)
	mustCreate(t, Options{Profile: prof, DB: db})
	units, err := memoUnitsOf(memoPath(db.Path(), prof.Name))
	if err != nil {
		t.Fatal(err)
	}
	racy := 0
	for _, u := range units {
		if u.Kind == unitPort && !u.Racy {
			t.Errorf("port %s written just now is not racy", u.Label)
		}
		if u.Racy {
			racy++
		}
	}
	// The reuse reads them again and rewrites the memo; still within the
	// window, they stay racy there, and the next reuse reads them again.
	for i := 0; i < 2; i++ {
		_, st := mustCreate(t, Options{Profile: prof, DB: db})
		if !st.Reused || st.Reread != racy || racy == 0 {
			t.Fatalf("plan %d: reused %v, reread %d of %d racy units", i+2, st.Reused, st.Reread, racy)
		}
	}
}

// TestMemoNotForFailedMake: a plan in which a make run failed is not
// memoized (the failure may not happen again).
func TestMemoNotForFailedMake(t *testing.T) {
	trustClock(t)
	tree := miniTree(t)
	writeFiles(t, tree, map[string]string{"misc/bad/Makefile": "PORTNAME=bad\n.error broken on purpose\n"})
	base := t.TempDir()
	prof := testProfile(tree, base, "all")
	db := openDB(t, base)
	mustCreate(t, Options{Profile: prof, DB: db})
	if _, st := mustCreate(t, Options{Profile: prof, DB: db}); st.Reused || st.MakeRuns != 1 {
		t.Fatalf("reused %v with %d make runs, want a fresh plan re-running the failed make", st.Reused, st.MakeRuns)
	}
}

func remove(t *testing.T, p string) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
}

// rewrite replaces the content of file p with edit's result.
func rewrite(t *testing.T, p string, edit func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, edit(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// memoUnitsOf returns the units of the memo at path.
func memoUnitsOf(path string) ([]memoUnit, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < len(memoMagic) {
		return nil, errStale
	}
	dec := gob.NewDecoder(bytes.NewReader(b[len(memoMagic):]))
	var head memoHead
	if err := dec.Decode(&head); err != nil {
		return nil, err
	}
	var units []memoUnit
	for len(units) < head.Units {
		var chunk []memoUnit
		if err := dec.Decode(&chunk); err != nil {
			return nil, err
		}
		units = append(units, chunk...)
	}
	return units, nil
}

// TestPackDeps: a load's dependencies survive the memo's packing, odd
// bytes included, and a damaged packing is refused.
func TestPackDeps(t *testing.T) {
	for _, deps := range [][]portscan.Dep{
		nil,
		{{Var: "BUILD_DEPENDS", Ref: portscan.Ref{Origin: "devel/gmake"}}},
		{{Var: "RUN_DEPENDS", Ref: portscan.Ref{Origin: "lang/py", Flavor: "py311"}},
			{Var: "LIB_DEPENDS", Ref: portscan.Ref{Origin: "a\x00b", Flavor: "\x01"}}},
	} {
		p := packDeps(deps)
		got, ok := unpackDeps(p, func(s string) string { return s })
		if !ok || !reflect.DeepEqual(got, deps) {
			t.Errorf("%q: unpacked %v (%v), want %v", p, got, ok, deps)
		}
		if len(p) > 0 {
			if _, ok := unpackDeps(p[:len(p)-1], nil); ok {
				t.Errorf("%q cut short unpacks", p)
			}
		}
	}
}
