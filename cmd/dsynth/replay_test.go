package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/execute/replay"
	"github.com/go-dsynth/dsynth/plan/rundiff"
)

// dsynth plan + apply a plan file from a git tree, then replay it: the
// confirmation, the text and JSON reports, the exit code bits, and diff
// between the original run and its replay.
func TestE2EReplayAndDiff(t *testing.T) {
	dir := e2eSetup(t, "devel/libmini", "misc/nondeterministic")
	ports := filepath.Join(dir, "ports")
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"},
		{"-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "tree"}} {
		if out, err := exec.Command("git", append([]string{"-C", ports}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	out, code := dsynth(t, dir, "plan", "-out", "plan.json", "p.hcl")
	mustCode(t, out, code, 0, "plan")
	out, code = dsynth(t, dir, "apply", "plan.json")
	mustCode(t, out, code, 0, "apply")
	db := e2eRecords(t, dir)
	runs, err := db.Runs()
	db.Close()
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v %v", runs, err)
	}
	orig := runs[0].ID

	// Not approved: nothing is built.
	out, code = dsynth(t, dir, "replay", "plan.json")
	mustCode(t, out, code, exitError, "replay without approval")
	if !strings.Contains(out, "Replay cancelled") || !strings.Contains(out, "rebuild these 3 ports") {
		t.Errorf("replay without approval:\n%s", out)
	}

	out, code = dsynth(t, dir, "replay", "-auto-approve", "plan.json")
	mustCode(t, out, code, replay.ExitDiffers, "replay plan.json")
	for _, want := range []string{"current ports tree", "reproduced           devel/libmini",
		"differs              misc/nondeterministic", "usr/local/share/nondeterministic/stamp: content at offset",
		"2/3 reproduced bit-for-bit (1 differ)"} {
		if !strings.Contains(out, want) {
			t.Errorf("replay output lacks %q:\n%s", want, out)
		}
	}

	out, code = dsynth(t, dir, "replay", "-auto-approve", "-json", "-workers", "1", orig[:8])
	mustCode(t, out, code, replay.ExitDiffers, "replay -json RUN")
	var rep replay.Report
	if err := json.Unmarshal([]byte(out[strings.Index(out, "\n{")+1:]), &rep); err != nil {
		t.Fatalf("replay -json: %v\n%s", err, out)
	}
	if rep.OriginalRun != orig || rep.Counts.Reproduced != 2 || rep.Counts.Differs != 1 || rep.ExitCode != replay.ExitDiffers {
		t.Errorf("replay -json report: %+v", rep)
	}

	out, code = dsynth(t, dir, "diff", "-json", orig, rep.ReplayRun)
	mustCode(t, out, code, 0, "diff")
	var d rundiff.Diff
	// (stdout and stderr together: stderr says which records were read)
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &d); err != nil {
		t.Fatalf("diff -json: %v\n%s", err, out)
	}
	if len(d.Ports) != 1 || d.Ports[0].Node != "misc/nondeterministic" || len(d.Ports[0].Inputs) != 0 ||
		d.Ports[0].PackageA == d.Ports[0].PackageB || d.B.ReplayOf != orig {
		t.Errorf("diff of a run and its replay: %+v", d)
	}
	out, code = dsynth(t, dir, "diff", orig, rep.ReplayRun)
	mustCode(t, out, code, 0, "diff")
	if !strings.Contains(out, "misc/nondeterministic  1.0\n") || !strings.Contains(out, "  package:") {
		t.Errorf("diff output:\n%s", out)
	}
	out, code = dsynth(t, dir, "show", rep.ReplayRun)
	mustCode(t, out, code, 0, "show replay run")
	if !strings.Contains(out, "Replay of "+orig) {
		t.Errorf("show of a replay run does not name the original:\n%s", out)
	}
	noLeftovers(t, filepath.Join(dir, "base"))
}

// TestReplayNotAPlanFile: an existing file that is no plan is said to be
// no dsynth plan file, not looked up as a run ID.
func TestReplayNotAPlanFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f.plan")
	for _, content := range []string{"", "x"} {
		os.WriteFile(f, []byte(content), 0o644)
		var out, errb bytes.Buffer
		if code := run([]string{"replay", "-records", filepath.Join(t.TempDir(), "none.db"), f}, &out, &errb); code != exitError ||
			!strings.Contains(errb.String(), f+": not a dsynth plan file") {
			t.Errorf("%q: exit %d\n%s", content, code, errb.String())
		}
	}
}
