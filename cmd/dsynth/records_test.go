package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/record"
)

// seedRecords writes one finished run with three attempts.
func seedRecords(t *testing.T) (string, *record.Run) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "records.db")
	db, err := record.Open(path, record.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now().Add(-time.Hour).UTC()
	planBytes := fixturePlan(t, dir, []plan.Node{{ID: "devel/a", Origin: "devel/a", PkgName: "a-1.0", Action: plan.ActionBuild, Version: "1.0", PkgFile: "a-1.0.pkg"},
		{ID: "devel/never", Origin: "devel/never", PkgName: "never-2.0", Action: plan.ActionBuild, Version: "2.0", PkgFile: "never-2.0.pkg"}})
	run := &record.Run{ID: "11112222-aaaa", PlanDigest: "abcdef0123456789", Plan: planBytes,
		ProfileName: "test", Start: t0, End: t0.Add(time.Minute), Status: record.RunFailed, Workers: 2,
		Counts: record.Counts{Planned: 4, Built: 1, Failed: 1, Skipped: 1}}
	log := filepath.Join(dir, "devel___a.log")
	os.WriteFile(log, []byte("dsynth build log\norigin: devel/a\n"), 0o644)
	atts := []*record.Attempt{
		{ID: "aaaa0001", RunID: run.ID, NodeID: "devel/a", Origin: "devel/a", Version: "1.0", Action: "build", Status: record.AttemptSuccess,
			Start: t0, End: t0.Add(20 * time.Second), PkgFile: "a-1.0.pkg", SHA256: "0123456789abcdef", InputKey: "feedbeef", LogPath: log, Worker: 1},
		{ID: "aaaa0002", RunID: run.ID, NodeID: "devel/b", Origin: "devel/b", Version: "1.0", Action: "build", Status: record.AttemptFailed,
			Start: t0, End: t0.Add(5 * time.Second), LastPhase: "build", Error: "build phase: exit status 1", Worker: 0},
		{ID: "aaaa0003", RunID: run.ID, NodeID: "x/c", Origin: "x/c", Version: "1.0", Action: "build", Status: record.AttemptSkipped,
			Error: "skipped: devel/b failed in build phase", Start: t0},
	}
	err = db.Write(func(tx *record.Tx) error {
		if err := tx.PutRun(run); err != nil {
			return err
		}
		for _, a := range atts {
			if err := tx.PutAttempt(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path, run
}

func TestReadingCommands(t *testing.T) {
	path, _ := seedRecords(t)
	t.Setenv("DSYNTH_RECORDS", path)
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"history", "devel/a"}, 0, []string{"aaaa0001", "devel/a", "success", "20s", "feedbeef", "0123456789ab"}},
		{[]string{"history", "-json", "devel/b"}, 0, []string{`"last_phase": "build"`, `"status": "failed"`}},
		{[]string{"history", "-records", path, "nope/nope"}, 0, []string{"No build attempts recorded for nope/nope."}},
		{[]string{"stats"}, 0, []string{"Attempts:      3 (1 succeeded, 1 failed, 1 skipped, 0 ignored)", "Success rate:  50.0%", "Busiest worker: 1", "devel/a"}},
		{[]string{"stats", "-json", "-since", "1m"}, 0, []string{`"attempts": 0`}},
		{[]string{"logs", "devel/a"}, 0, []string{"origin: devel/a"}},
		{[]string{"logs", "aaaa0001"}, 0, []string{"dsynth build log"}},
		{[]string{"logs", "devel/b"}, 1, nil},
		{[]string{"status"}, 0, []string{"No apply is running. Last run 11112222-aaaa", "4 planned: 1 built, 1 failed, 1 skipped"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestShowRunAndExport(t *testing.T) {
	path, r := seedRecords(t)
	t.Setenv("DSYNTH_RECORDS", path)
	var out bytes.Buffer
	stdout = &out
	defer func() { stdout = os.Stdout }()
	if err := showRun("last", false, &recordsFlags{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"devel/a", "devel/never", "not run", "failed in build: build phase: exit status 1", "1 of 4 ports went as planned"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("show lacks %q:\n%s", w, out.String())
		}
	}
	// -records wins over $DSYNTH_RECORDS.
	t.Setenv("DSYNTH_RECORDS", filepath.Join(t.TempDir(), "elsewhere.db"))
	if code, sout, serr := runCmd(t, "show", "-records", path, "-json", "last"); code != 0 || !strings.Contains(sout, r.ID) {
		t.Errorf("show -records: exit %d\n%s%s", code, sout, serr)
	}
	t.Setenv("DSYNTH_RECORDS", path)
	outFile := filepath.Join(t.TempDir(), "plan.json")
	if err := runPlanExport([]string{"1111", "-out", outFile}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outFile); !bytes.Equal(b, r.Plan) {
		t.Errorf("exported %q, want %q", b, r.Plan)
	}
}

func TestCorruptedRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte("garbage!"), 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"history", "-records", path, "devel/a"}, &out, &errb); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errb.String(), "looks corrupted") || !strings.Contains(errb.String(), "Packages are not stored in it") {
		t.Errorf("stderr: %s", errb.String())
	}
}

// TestRecordsIsADirectory: records = "/tmp" (a directory) is said to be
// a directory, not a damaged records file, and moving it is never
// advised, by the reading commands and by apply.
func TestRecordsIsADirectory(t *testing.T) {
	dir := t.TempDir()
	check := func(what, stderr string) {
		t.Helper()
		if !strings.Contains(stderr, "records database "+dir+" is a directory, not a records file") ||
			strings.Contains(stderr, "mv ") || strings.Contains(stderr, "corrupted") {
			t.Errorf("%s: stderr: %s", what, stderr)
		}
	}
	for _, args := range [][]string{{"status", "-records", dir}, {"history", "-records", dir, "devel/a"}, {"show", "-records", dir, "last"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitError {
			t.Errorf("%v: exit %d", args, code)
		}
		check(strings.Join(args, " "), errb.String())
	}
	if _, err := exec.LookPath("bmake"); err != nil {
		return
	}
	tree, _ := filepath.Abs("../../testdata/ports/good")
	prof := filepath.Join(t.TempDir(), "p.hcl")
	os.WriteFile(prof, []byte(fmt.Sprintf("profile \"t\" {\n  ports_dir = %q\n  build_base = %q\n  records = %q\n  ports = [\"misc/minicat\"]\n}\n",
		tree, filepath.Join(t.TempDir(), "base"), dir)), 0o644)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, args := range [][]string{{"plan", prof}, {"apply", "-auto-approve", prof}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitError {
			t.Errorf("%v: exit %d", args, code)
		}
		check(strings.Join(args, " "), errb.String())
	}
}

// TestDamagedRecordsNeverCrash flips bytes all over copies of a real
// records file: every reading command must end with an error or a result,
// never a crash (bbolt can fault on a damaged memory map).
func TestDamagedRecordsNeverCrash(t *testing.T) {
	path, _ := seedRecords(t)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := 160; i < 200; i++ { // variant 178 faults in bbolt without the guard
		b := bytes.Clone(orig)
		for k := 0; k < 8; k++ {
			off := (i*7919 + k*104729) % len(b)
			b[off] ^= byte(0x5a + i + k)
		}
		f := filepath.Join(dir, fmt.Sprintf("d%02d.db", i))
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"stats", "-records", f}, {"show", "-records", f, "last"}, {"history", "-records", f, "devel/a"}} {
			code, _, errOut := runCmd(t, args...)
			if code != 0 && code != 1 {
				t.Errorf("%v on a damaged file: exit %d: %s", args, code, errOut)
			}
		}
	}
}

// TestLastRecordsSaysWhich: a reading command without -records or
// -profile-file reads the last apply's records and says which file that
// is (the last apply may have been of another profile).
func TestLastRecordsSaysWhich(t *testing.T) {
	path, _ := seedRecords(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv("DSYNTH_RECORDS", "")
	rememberRecords(path)
	code, out, errOut := runCmd(t, "history", "devel/a")
	if code != 0 || !strings.Contains(out, "devel/a") {
		t.Fatalf("history: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "reading the records of the last apply, "+path) {
		t.Errorf("history does not say which records it read: %q", errOut)
	}
	code, _, errOut = runCmd(t, "history", "-records", path, "devel/a")
	if code != 0 || strings.Contains(errOut, "last apply") {
		t.Errorf("with -records: exit %d %q", code, errOut)
	}
}

// fixturePlan is a real plan file (digested, checked by plan.Decode) of
// the given nodes, with the profile of a golden plan.
func fixturePlan(t *testing.T, dir string, nodes []plan.Node) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/plan/good-all.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("$TREE"), []byte(filepath.Join(dir, "ports"))), []byte("$BASE"), []byte(filepath.Join(dir, "base")))
	p, err := planfile.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	p.Ports, p.Order, p.PkgNode = nodes, nil, ""
	for _, n := range nodes {
		p.Order = append(p.Order, n.ID)
	}
	f, err := planfile.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := planfile.Decode(f.Bytes()); err != nil {
		t.Fatalf("fixture plan: %v", err)
	}
	return f.Bytes()
}
