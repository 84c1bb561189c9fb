package distfiles

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/internal/testtool"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/spec"
)

func TestMain(m *testing.M) {
	isolate.MaybeRunHelper()
	os.Exit(m.Run())
}

// sites is an HTTP server of testdata/fetchsites on 127.0.0.1 that counts
// the requests of each path.
type sites struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newSites(t *testing.T) *sites {
	t.Helper()
	s := &sites{hits: map[string]int{}}
	fsrv := http.FileServer(http.Dir("../../testdata/fetchsites"))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		fsrv.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sites) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.hits {
		out[k] = v
	}
	return out
}

// fetchEnv copies testdata/ports/fetch (links resolved) and writes a
// profile whose make_conf points FETCH_SITE at srv; it skips unless root
// with bmake.
func fetchEnv(t *testing.T, srv string) (dir string, p *plan.Plan) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (real slots)")
	}
	testtool.Need(t, "bmake")
	dir = t.TempDir()
	if out, err := exec.Command("cp", "-rL", "../../testdata/ports/fetch", filepath.Join(dir, "ports")).CombinedOutput(); err != nil {
		t.Fatalf("copy tree: %v: %s", err, out)
	}
	prof := filepath.Join(dir, "p.hcl")
	src := fmt.Sprintf(`profile "fetch" {
  ports_dir  = "ports"
  build_base = "base"
  ports      = ["all"]
  make_conf  = { FETCH_SITE = "%s/" }
  workers {
    count    = 2
    throttle = false
  }
  environment {
    network = "none"
  }
}
`, srv)
	if err := os.WriteFile(prof, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	l, diags := spec.Load(prof, spec.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p, _, err := plan.Create(t.Context(), plan.Options{Profile: l.Profile, KeepGoing: true})
	if err != nil {
		t.Fatal(err)
	}
	return dir, p
}

func TestFetchSlots(t *testing.T) {
	srv := newSites(t)
	dir, p := fetchEnv(t, srv.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var events []Event
	var mu sync.Mutex
	opts := Options{Plan: p, Isolator: execute.SlotIsolator(execute.SlotLayout(p)),
		Observe: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }}
	res, err := Fetch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]PortResult{}
	for _, pr := range res.Ports {
		byID[pr.ID] = pr
	}
	want := map[string]Status{"misc/fetch-one": Fetched, "misc/fetch-sub": Fetched,
		"misc/fetch-badsum": Failed, "misc/fetch-404": Failed}
	if len(byID) != len(want) || res.NoDistfiles != 1 {
		t.Errorf("ports %v, %d without distfiles; want %v and 1", byID, res.NoDistfiles, want)
	}
	for id, st := range want {
		if byID[id].Status != st {
			t.Errorf("%s: %s (%s %q), want %s", id, byID[id].Status, byID[id].Reason, byID[id].Output, st)
		}
	}
	dist := p.Settings.DistfilesDir
	for rel, src := range map[string]string{"fetch-one-1.0.txt": "fetch-one-1.0.txt",
		"fetchsub/fetch-sub-2.0-a.txt": "fetch-sub-2.0-a.txt", "fetchsub/fetch-sub-2.0-b.txt": "fetch-sub-2.0-b.txt"} {
		got, err := os.ReadFile(filepath.Join(dist, rel))
		want, _ := os.ReadFile(filepath.Join("../../testdata/fetchsites/dist", src))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s in distfiles_dir: %q %v, want %q", rel, got, err, want)
		}
	}
	if b := byID["misc/fetch-sub"].Bytes; b != 74 {
		t.Errorf("fetch-sub bytes %d, want 74", b)
	}
	// The bad file is not left as if it were good, and the reasons say
	// what happened.
	if _, err := os.Stat(filepath.Join(dist, "fetch-badsum-1.0.txt")); !os.IsNotExist(err) {
		t.Errorf("the distfile with a bad checksum was left in distfiles_dir: %v", err)
	}
	bad := byID["misc/fetch-badsum"]
	if bad.Reason != "checksum target: exit status 1" || !strings.Contains(strings.Join(bad.Output, "\n"), "giving up on fetch-badsum-1.0.txt") {
		t.Errorf("bad checksum: %q %q", bad.Reason, bad.Output)
	}
	nf := byID["misc/fetch-404"]
	if nf.Reason != "fetch target: exit status 1" ||
		!strings.Contains(strings.Join(nf.Output, "\n"), "cannot fetch fetch-404-1.0.txt: tried "+srv.URL+"/dist/fetch-404-1.0.txt") ||
		!strings.Contains(strings.Join(nf.Output, "\n"), "404") {
		t.Errorf("404: %q %q", nf.Reason, nf.Output)
	}
	if log, err := os.ReadFile(nf.LogPath); err != nil || !strings.Contains(string(log), "=== fetch target: FAILED") {
		t.Errorf("404 log %s: %v\n%s", nf.LogPath, err, log)
	}
	t.Logf("bad checksum: %s\n%s\n404: %s\n%s", bad.Reason, strings.Join(bad.Output, "\n"), nf.Reason, strings.Join(nf.Output, "\n"))
	hits := srv.counts()
	for _, path := range []string{"/moved/fetch-sub-2.0-a.txt", "/dist/fetch-sub-2.0-a.txt", "/dist/fetch-one-1.0.txt"} {
		if hits[path] != 1 {
			t.Errorf("%s requested %d times, want 1 (%v)", path, hits[path], hits)
		}
	}
	// badsum: fetched, found bad, fetched again once.
	if n := hits["/dist/fetch-badsum-1.0.txt"]; n != 2 {
		t.Errorf("bad checksum file requested %d times, want 2", n)
	}
	mu.Lock()
	if len(events) == 0 || events[0].Kind != EventStart || events[0].Total != 4 || events[len(events)-1].Kind != EventEnd {
		t.Errorf("events %+v", events)
	}
	mu.Unlock()

	// Again: the good ports are present (the checksum target alone),
	// nothing of theirs is downloaded.
	res2, err := Fetch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Count(Present) != 2 || res2.Count(Failed) != 2 || res2.Bytes() != 0 {
		t.Errorf("second fetch: %d present, %d failed, %d bytes: %+v", res2.Count(Present), res2.Count(Failed), res2.Bytes(), res2.Ports)
	}
	for path, n := range srv.counts() {
		if n != hits[path] && !strings.Contains(path, "badsum") && !strings.Contains(path, "404") {
			t.Errorf("second fetch requested %s again", path)
		}
	}
	if sl, _ := filepath.Glob(filepath.Join(dir, "base", "SL*")); len(sl) > 0 {
		t.Errorf("slots left: %v", sl)
	}
}
