package replay

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func sampleReport() *Report {
	r := &Report{Original: "0d79e802-559d-4e7a-bf52-fc058f2ced02", OriginalRun: "0d79e802-559d-4e7a-bf52-fc058f2ced02",
		PlanDigest: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ReplayRun: "7c5d5d90-a83d-44a5-9b00-8835425986ff",
		Status: "failed", Tree: "git worktree of pinned commit 2490f951eaf3a0f57ef6a9906a6378437de9f6e0",
		Commit: "2490f951eaf3a0f57ef6a9906a6378437de9f6e0", PackagesDir: "/build/replay/0d79e802-559d-4e7a-bf52-fc058f2ced02/packages",
		Ports: []PortResult{
			{Node: "devel/libmini", Version: "1.2", PkgFile: "libmini-1.2.pkg", Verdict: VerdictReproduced,
				OriginalSHA256: "ba649224a65588354f86b3cd7407673677ad448bceb3c41ac627e2e6cde8cf6b",
				ReplaySHA256:   "ba649224a65588354f86b3cd7407673677ad448bceb3c41ac627e2e6cde8cf6b"},
			{Node: "devel/fails", Version: "1.0", PkgFile: "fails-1.0.pkg", Verdict: VerdictFailed, Note: "build phase: exit status 2"},
			{Node: "misc/meta-all", Version: "1.0", Verdict: VerdictNoPackage},
			{Node: "misc/needs-fails", Version: "1.0", PkgFile: "needs-fails-1.0.pkg", Verdict: VerdictSkipped, Note: "skipped: devel/fails failed in build"},
			{Node: "misc/new", Version: "0.1", PkgFile: "new-0.1.pkg", Verdict: VerdictNotBuilt, OriginalStatus: "failed", Note: "originally failed",
				ReplaySHA256: "e25edecbb208c397c1a130bb0d70137a31774062d6ada751a524b2e9b5003c66"},
			{Node: "misc/nondeterministic", Version: "1.0", PkgFile: "nondeterministic-1.0.pkg", Verdict: VerdictDiffers,
				OriginalSHA256: "1bd1dfd79efc3dc9d49645edebc49a13286caec8a55ccb8a7eb1bd0574b639e8",
				ReplaySHA256:   "583a291947f1cd3e4ae8cd17caf01026eb8a9a70a03d22059143f574a9451147",
				Differences: []MemberDiff{{Member: "+MANIFEST", Field: "content", Offset: 204},
					{Member: "usr/local/share/nondeterministic/stamp", Field: "content", Offset: 7}}},
			{Node: "sysutils/ignored", Version: "1.0", Verdict: VerdictNotPlanned, Note: "ignored: is ignored"},
		}}
	r.count()
	return r
}

func TestReportGolden(t *testing.T) {
	r := sampleReport()
	if r.ExitCode != ExitDiffers|ExitFailed|ExitUncompared {
		t.Errorf("exit code %d", r.ExitCode)
	}
	if got, want := r.Summary(), "1/5 reproduced bit-for-bit (1 differ, 1 failed, 1 skipped, 1 not built originally)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	for _, c := range []struct {
		file   string
		render func(*bytes.Buffer) error
	}{
		{"report.golden.txt", func(b *bytes.Buffer) error { return RenderHuman(b, r) }},
		{"report.golden.json", func(b *bytes.Buffer) error { return RenderJSON(b, r) }},
	} {
		var b bytes.Buffer
		if err := c.render(&b); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("..", "..", "testdata", "replay", c.file)
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./execute/replay -run Golden -update)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs (run with -update if intended):\n%s", path, b.String())
		}
	}
}

func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		verdicts []string
		want     int
	}{
		{[]string{VerdictReproduced, VerdictNoPackage, VerdictNotPlanned}, 0},
		{[]string{VerdictReproduced, VerdictDiffers}, ExitDiffers},
		{[]string{VerdictFailed}, ExitFailed},
		{[]string{VerdictSkipped, VerdictDiffers}, ExitFailed | ExitDiffers},
		{[]string{VerdictNotBuilt}, ExitUncompared},
	} {
		r := &Report{}
		for _, v := range c.verdicts {
			r.Ports = append(r.Ports, PortResult{Verdict: v})
		}
		r.count()
		if r.ExitCode != c.want {
			t.Errorf("%v: exit %d, want %d", c.verdicts, r.ExitCode, c.want)
		}
	}
}
