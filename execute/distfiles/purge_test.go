package distfiles

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/plan"
)

func TestPurgeUnreferenced(t *testing.T) {
	dir := t.TempDir()
	dist := filepath.Join(dir, "distfiles")
	outside := filepath.Join(dir, "outside")
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dist, "keep-1.0.tar.gz"), "keep")
	write(filepath.Join(dist, "sub", "keep-2.0.tar.gz"), "keep2")
	write(filepath.Join(dist, "top-3.0.tar.gz"), "named without its DIST_SUBDIR")
	write(filepath.Join(dist, "old-0.9.tar.gz"), "12345")
	write(filepath.Join(dist, "gone", "deep", "old.txt"), "123")
	write(filepath.Join(dist, "sub", "old-1.9.tar.gz"), "1")
	write(filepath.Join(dist, "packages", "All", "x.pkg"), "a package")
	write(filepath.Join(outside, "victim"), "must stay")
	if err := os.Symlink(outside, filepath.Join(dist, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "victim"), filepath.Join(dist, "victim-link")); err != nil {
		t.Fatal(err)
	}
	nodes := []plan.Node{
		{ID: "a/keep", Distfiles: []string{"keep-1.0.tar.gz"}},
		{ID: "a/sub", Distfiles: []string{"keep-2.0.tar.gz"}, DistSubdir: "sub"},
		{ID: "a/top", Distfiles: []string{"top-3.0.tar.gz"}, DistSubdir: "other"},
		{ID: "a/none"},
	}
	u, err := Unreferenced(dist, References(nodes), []string{filepath.Join(dist, "packages")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range u.Files {
		got = append(got, f.Path)
	}
	want := []string{"gone/deep/old.txt", "old-0.9.tar.gz", "sub/old-1.9.tar.gz"}
	if !slices.Equal(got, want) || u.Bytes != 9 {
		t.Errorf("unreferenced %q (%d bytes), want %q (9)", got, u.Bytes, want)
	}
	if len(u.Kept) != 3 {
		t.Errorf("kept %q, want the packages folder and the two links", u.Kept)
	}
	rm, err := Remove(u)
	if err != nil {
		t.Fatal(err)
	}
	if len(rm.Files) != 3 || rm.Bytes != 9 || !slices.Equal(rm.Dirs, []string{"gone/deep", "gone"}) {
		t.Errorf("removed %+v", rm)
	}
	for _, p := range []string{"keep-1.0.tar.gz", "sub/keep-2.0.tar.gz", "top-3.0.tar.gz", "packages/All/x.pkg", "escape", "victim-link"} {
		if _, err := os.Lstat(filepath.Join(dist, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(outside, "victim")); err != nil || string(b) != "must stay" {
		t.Errorf("outside file: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dist, "sub")); err != nil {
		t.Errorf("sub/ still holds a referenced file: %v", err)
	}

	// A file replaced by a link to the outside between the scan and the
	// removal is left alone.
	write(filepath.Join(dist, "late.txt"), "x")
	u, err = Unreferenced(dist, References(nodes), nil)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dist, "late.txt"))
	os.Symlink(filepath.Join(outside, "victim"), filepath.Join(dist, "late.txt"))
	if _, err := Remove(u); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(outside, "victim")); err != nil || string(b) != "must stay" {
		t.Errorf("outside file after a swapped link: %q %v", b, err)
	}

	// A missing distfiles_dir has nothing to purge.
	if u, err := Unreferenced(filepath.Join(dir, "none"), nil, nil); err != nil || len(u.Files) != 0 {
		t.Errorf("missing dir: %+v %v", u, err)
	}
}

func TestScanErrorsAndOperations(t *testing.T) {
	nodes := []plan.Node{{ID: "a/ok"}, {ID: "b/bad", Action: plan.ActionFailed, Reason: "make: syntax error"}}
	if got := ScanErrors(nodes); !slices.Equal(got, []string{"b/bad: make: syntax error"}) {
		t.Errorf("scan errors %q", got)
	}
	res := &Result{Ports: []PortResult{{ID: "a", Status: Fetched, Bytes: 10}, {ID: "b", Status: Failed, Reason: "fetch target: exit status 1"}, {ID: "c", Status: Present}}}
	op := FetchOperation("p", nowForTest(), res, nil)
	if op.Status != "partial" || op.Count != 1 || op.Bytes != 10 || !slices.Equal(op.Items, []string{"a", "b: fetch target: exit status 1"}) {
		t.Errorf("fetch operation %+v", op)
	}
	res.Ports = res.Ports[:1]
	if op := FetchOperation("p", nowForTest(), res, nil); op.Status != "ok" {
		t.Errorf("all fetched: %+v", op)
	}
	res.Ports = []PortResult{{ID: "b", Status: Failed}}
	if op := FetchOperation("p", nowForTest(), res, nil); op.Status != "failed" {
		t.Errorf("all failed: %+v", op)
	}
}

func nowForTest() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }
