package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-dsynth/dsynth/record"
)

// TestE2EFetchPurge: dsynth fetch downloads the distfiles of a plan from
// a real HTTP server on 127.0.0.1 in networked slots (a bad checksum and
// a 404 fail with their reasons, exit 3), a second fetch downloads
// nothing, apply then builds the good ports with network = "none", and
// purge-distfiles lists and removes what no port references, refusing
// when a port fails to scan.
func TestE2EFetchPurge(t *testing.T) {
	e2eSetup(t) // skips unless root with bmake; builds the binary
	var mu sync.Mutex
	hits := map[string]int{}
	fsrv := http.FileServer(http.Dir("../../testdata/fetchsites"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		fsrv.ServeHTTP(w, r)
	}))
	defer srv.Close()
	snapshot := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range hits {
			out[k] = v
		}
		return out
	}

	dir := t.TempDir()
	if out, err := exec.Command("cp", "-rL", "../../testdata/ports/fetch", filepath.Join(dir, "ports")).CombinedOutput(); err != nil {
		t.Fatalf("copy tree: %v\n%s", err, out)
	}
	prof := fmt.Sprintf(`profile "fetch" {
  ports_dir  = "ports"
  build_base = "base"
  ports      = ["all"]
  make_conf  = { FETCH_SITE = "%s/" }
  workers {
    count    = 2
    max_jobs = 1
    throttle = false
  }
  environment {
    network = "none"
  }
}
`, srv.URL)
	if err := os.WriteFile(filepath.Join(dir, "p.hcl"), []byte(prof), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := dsynth(t, dir, "plan", "-out", "t.plan", "p.hcl")
	mustCode(t, out, code, 0, "plan")

	out, code = dsynth(t, dir, "fetch", "t.plan")
	mustCode(t, out, code, exitFailed, "fetch")
	for _, want := range []string{
		"Fetch: 2 fetched (108 B), 0 already present, 2 failed, 0 skipped; 1 ports have no distfiles.",
		"failed:  misc/fetch-404: fetch target: exit status 1",
		"| ===>  fetch-404-1.0: cannot fetch fetch-404-1.0.txt: tried " + srv.URL + "/dist/fetch-404-1.0.txt",
		"failed:  misc/fetch-badsum: checksum target: exit status 1",
		"| ===>  fetch-badsum-1.0: giving up on fetch-badsum-1.0.txt: SHA256 checksum mismatch",
		"fetched  misc/fetch-sub",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("fetch output lacks %q:\n%s", want, out)
		}
	}
	dist := filepath.Join(dir, "base", "distfiles")
	for _, f := range []string{"fetch-one-1.0.txt", "fetchsub/fetch-sub-2.0-a.txt", "fetchsub/fetch-sub-2.0-b.txt"} {
		if _, err := os.Stat(filepath.Join(dist, f)); err != nil {
			t.Errorf("distfile %s: %v", f, err)
		}
	}
	for _, f := range []string{"fetch-badsum-1.0.txt", "fetch-404-1.0.txt"} {
		if _, err := os.Stat(filepath.Join(dist, f)); !os.IsNotExist(err) {
			t.Errorf("failed distfile %s left in distfiles_dir: %v", f, err)
		}
	}
	first := snapshot()

	// The profile form, one worker: nothing of the good ports is
	// downloaded again.
	out, code = dsynth(t, dir, "fetch", "-workers", "1", "p.hcl")
	mustCode(t, out, code, exitFailed, "second fetch")
	if !strings.Contains(out, "Fetch: 0 fetched (0 B), 2 already present, 2 failed") {
		t.Errorf("second fetch:\n%s", out)
	}
	for path, n := range snapshot() {
		if n != first[path] && !strings.Contains(path, "fetch-badsum") && !strings.Contains(path, "fetch-404") {
			t.Errorf("the second fetch requested %s again (%d, then %d)", path, first[path], n)
		}
	}
	db := e2eRecords(t, dir)
	ops, err := db.Operations(record.OpFetch)
	db.Close()
	if err != nil || len(ops) != 2 || ops[0].Status != record.OpPartial || ops[0].Count != 2 || ops[0].Bytes != 108 || ops[1].Count != 0 {
		t.Errorf("fetch operations: %v", err)
		for _, op := range ops {
			t.Logf("%+v", op)
		}
	}

	// The build needs no network any more: the good ports build, the
	// two others fail in their fetch phase.
	out, code = dsynth(t, dir, "apply", "t.plan")
	mustCode(t, out, code, exitFailed, "apply")
	for _, pkg := range []string{"fetch-one-1.0.pkg", "fetch-sub-2.0.pkg", "no-distfiles-1.0.pkg"} {
		if _, err := os.Stat(filepath.Join(dir, "base", "packages", "All", pkg)); err != nil {
			t.Errorf("package %s: %v\n%s", pkg, err, out)
		}
	}
	if !strings.Contains(out, "3 built, 2 failed") {
		t.Errorf("apply:\n%s", out)
	}

	// purge-distfiles: a dry run lists, -yes removes, referenced files stay.
	stale := filepath.Join(dist, "old", "stale-0.9.txt")
	os.MkdirAll(filepath.Dir(stale), 0o755)
	os.WriteFile(stale, []byte("0123456789"), 0o644)
	out, code = dsynth(t, dir, "purge-distfiles", "p.hcl")
	mustCode(t, out, code, 0, "purge dry run")
	if !strings.Contains(out, "would remove: old/stale-0.9.txt (10 B)") || !strings.Contains(out, "would free 10 B (10 bytes)") {
		t.Errorf("dry run:\n%s", out)
	}
	if _, err := os.Stat(stale); err != nil {
		t.Errorf("a dry run removed %s", stale)
	}
	out, code = dsynth(t, dir, "purge-distfiles", "-yes", "t.plan")
	mustCode(t, out, code, 0, "purge -yes")
	if !strings.Contains(out, "removed: old/stale-0.9.txt") || !strings.Contains(out, "removed: old/ (empty)") ||
		!strings.Contains(out, "freed 10 B (10 bytes)") {
		t.Errorf("purge -yes:\n%s", out)
	}
	if _, err := os.Stat(filepath.Dir(stale)); !os.IsNotExist(err) {
		t.Errorf("old/ not removed: %v", err)
	}
	for _, f := range []string{"fetch-one-1.0.txt", "fetchsub/fetch-sub-2.0-a.txt"} {
		if _, err := os.Stat(filepath.Join(dist, f)); err != nil {
			t.Errorf("purge removed a referenced distfile %s: %v", f, err)
		}
	}

	// A port that fails to scan: nothing is removed.
	os.MkdirAll(filepath.Dir(stale), 0o755)
	if err := os.WriteFile(stale+"2", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "ports", "misc", "broken"), 0o755)
	os.WriteFile(filepath.Join(dir, "ports", "misc", "broken", "Makefile"), []byte(".if\n"), 0o644)
	out, code = dsynth(t, dir, "purge-distfiles", "-yes", "p.hcl")
	mustCode(t, out, code, exitError, "purge with a scan error")
	if !strings.Contains(out, "refusing to purge: 1 ports of the tree failed to scan") || !strings.Contains(out, "misc/broken") {
		t.Errorf("purge with a scan error:\n%s", out)
	}
	if _, err := os.Stat(stale + "2"); err != nil {
		t.Errorf("purge removed %s despite a scan error", stale+"2")
	}
	db = e2eRecords(t, dir)
	ops, err = db.Operations(record.OpPurgeDistfiles)
	db.Close()
	if err != nil || len(ops) != 2 || ops[0].Status != record.OpOK || ops[0].Count != 1 || ops[0].Bytes != 10 || ops[1].Status != record.OpFailed {
		t.Errorf("purge operations: %v", err)
		for _, op := range ops {
			t.Logf("%+v", op)
		}
	}
	noLeftovers(t, filepath.Join(dir, "base"))
}
