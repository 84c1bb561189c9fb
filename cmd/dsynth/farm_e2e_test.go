package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/execute/farm"
	"github.com/go-dsynth/dsynth/internal/farmtest"
	"github.com/go-dsynth/dsynth/record"
)

// slowPort builds for a few seconds, linked to devel/libmini (a
// dependency package the build host fetches from the controller).
const slowPort = `PORTNAME=	slow
PORTVERSION=	1.0
CATEGORIES=	misc
COMMENT=	Builds for a while
LIB_DEPENDS=	libmini.so:devel/libmini
PLIST_FILES=	share/slow/README

do-build:
	sleep 4

do-install:
	${MKDIR} ${STAGEDIR}${PREFIX}/share/slow
	echo slow > ${STAGEDIR}${PREFIX}/share/slow/README

.include "${PORTSDIR}/Mk/bsd.port.mk"
`

// farmEnv is a farm on this machine: a Temporal dev server on a bridge,
// build hosts in network namespaces, the controller in the host's.
type farmEnv struct {
	t       *testing.T
	dir     string
	tp      *farmtest.Temporal
	net     *farmtest.Net
	workers []*farmtest.Process
}

func newFarm(t *testing.T, hosts int, heartbeat string, targets ...string) *farmEnv {
	farmtest.Need(t)
	dir := e2eSetup(t, targets...)
	os.MkdirAll(filepath.Join(dir, "ports", "misc", "slow"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "ports", "misc", "slow", "Makefile"), []byte(slowPort), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &farmEnv{t: t, dir: dir, net: farmtest.NewNet(t, hosts)}
	f.tp = farmtest.StartTemporal(t, f.net.HostIP, t.TempDir())
	ln := fmt.Sprintf("%s:%d", f.net.HostIP, 20000+os.Getpid()%20000)
	editFile(t, filepath.Join(dir, "p.hcl"), func(s string) string {
		return strings.TrimSuffix(strings.TrimSpace(s), "}") + fmt.Sprintf(`  executor "temporal" {
    address           = %q
    listen            = %q
    heartbeat_timeout = %q
  }
}
`, f.tp.Addr, ln, heartbeat)
	})
	for i := 0; i < hosts; i++ {
		f.workers = append(f.workers, f.startWorker(i))
	}
	t.Cleanup(func() {
		for i := range f.workers {
			f.workers[i].Stop()
			exec.Command(e2eBin, "cleanup", "-build-base", f.hostBase(i)).Run()
			noLeftovers(t, f.hostBase(i))
		}
	})
	return f
}

func (f *farmEnv) hostBase(i int) string { return filepath.Join(f.dir, fmt.Sprintf("host%d", i)) }

func (f *farmEnv) startWorker(i int) *farmtest.Process {
	cmd := exec.Command("ip", "netns", "exec", f.net.NS[i], e2eBin, "worker", "-temporal", f.tp.Addr,
		"-ports", filepath.Join(f.dir, "ports"), "-build-base", f.hostBase(i), "-name", fmt.Sprintf("host%d", i), "-slots", "1")
	return farmtest.Start(f.t, cmd)
}

func (f *farmEnv) apply(args ...string) *farmtest.Process {
	cmd := exec.Command(e2eBin, append([]string{"apply", "-auto-approve", "-executor", "temporal"}, args...)...)
	cmd.Dir = f.dir
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(f.dir, "state"))
	return farmtest.Start(f.t, cmd)
}

// waitBuilding waits until a build host reports node in its build phase
// and returns the host's index.
func (f *farmEnv) waitBuilding(node string, until <-chan struct{}) int {
	f.t.Helper()
	var i int
	fmt.Sscanf(waitHostBuilding(f.t, filepath.Join(f.dir, "base"), node, until), "host%d", &i)
	return i
}

// waitHostBuilding waits until the farm state of buildBase shows a host
// with node (any node when "") in its build phase, and returns the host.
func waitHostBuilding(tb testing.TB, buildBase, node string, until <-chan struct{}) string {
	tb.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		var hf farm.HostsFile
		if b, err := os.ReadFile(filepath.Join(buildBase, farm.HostsFileName)); err == nil && json.Unmarshal(b, &hf) == nil {
			for _, h := range hf.Hosts {
				for n, phase := range h.Building {
					if phase == "build" && (node == "" || n == node) {
						return h.Name
					}
				}
			}
		}
		select {
		case <-until:
			tb.Fatalf("the controller ended before %q built on a host", node)
			return ""
		case <-deadline:
			tb.Fatalf("%q never reached its build phase on a host", node)
			return ""
		case <-time.After(50 * time.Millisecond): // polling another process's status file
		}
	}
}

func attemptsOf(t *testing.T, dir, node string) []*record.Attempt {
	db := e2eRecords(t, dir)
	defer db.Close()
	atts, err := db.History(node)
	if err != nil {
		t.Fatal(err)
	}
	return atts
}

// TestE2EFarm: a plan applied on a farm of two build hosts is built as a
// local apply would, with each attempt naming its host; a build host
// SIGKILLed mid-build loses its port to the other one (two attempts, one
// package).
func TestE2EFarm(t *testing.T) {
	f := newFarm(t, 2, "3s", "misc/minicat", "misc/slow")
	ctl := f.apply("p.hcl")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("controller:\n%s", ctl.Out)
			for i, w := range f.workers {
				t.Logf("host%d:\n%s", i, w.Out)
			}
		}
	})
	victim := f.waitBuilding("misc/slow", ctl.Done())
	f.workers[victim].Kill()
	if code := ctl.Wait(); code != 0 {
		t.Fatalf("farm apply: exit %d\n%s\nworkers:\n%s\n%s", code, ctl.Out, f.workers[0].Out, f.workers[1].Out)
	}
	out := ctl.Out.String()
	if !strings.Contains(out, "Farm: Temporal "+f.tp.Addr) || !strings.Contains(out, "success") {
		t.Errorf("apply output:\n%s", out)
	}
	atts := attemptsOf(t, f.dir, "misc/slow")
	if len(atts) != 2 {
		t.Fatalf("misc/slow: %d attempts, want 2 (lost, then built)", len(atts))
	}
	var lost, built *record.Attempt
	for _, a := range atts {
		switch a.Status {
		case record.AttemptInterrupted:
			lost = a
		case record.AttemptSuccess:
			built = a
		}
	}
	victimName := fmt.Sprintf("host%d", victim)
	if lost == nil || built == nil || lost.Host != victimName || built.Host == victimName || built.Host == "" ||
		!strings.Contains(lost.Error, "build host lost") {
		t.Fatalf("attempts of misc/slow: lost %+v, built %+v", lost, built)
	}
	for _, node := range []string{"devel/libmini", "misc/minicat", "ports-mgmt/pkg"} {
		for _, a := range attemptsOf(t, f.dir, node) {
			if a.Status == record.AttemptSuccess && !strings.HasPrefix(a.Host, "host") {
				t.Errorf("%s: attempt without its build host: %+v", node, a)
			}
		}
	}
	pk, _ := filepath.Glob(filepath.Join(f.dir, "base", "packages", "All", "slow-*"))
	staged, _ := filepath.Glob(filepath.Join(f.dir, "base", "packages", farm.StagingDir, "*"))
	if len(pk) != 1 || len(staged) != 0 {
		t.Errorf("packages: %v, left in staging: %v", pk, staged)
	}
	if log, _ := os.ReadFile(filepath.Join(f.dir, "base", "logs", "misc___slow.log")); !strings.Contains(string(log), "=== phase build") {
		t.Errorf("the port log was not streamed back:\n%s", log)
	}
}

// TestE2EFarmRestarts: the controller SIGKILLed mid-build and started
// again resumes the run (the port under way is not built again, its
// workflow's result is taken); the Temporal server restarted mid-build:
// the run goes on.
func TestE2EFarmRestarts(t *testing.T) {
	f := newFarm(t, 2, "10s", "misc/minicat", "misc/slow")
	ctl := f.apply("p.hcl")
	f.waitBuilding("misc/slow", ctl.Done())
	ctl.Kill()
	ctl2 := f.apply("p.hcl")
	if code := ctl2.Wait(); code != 0 {
		t.Fatalf("restarted controller: exit %d\n%s\nfirst:\n%s\nworkers:\n%s\n%s", code, ctl2.Out, ctl.Out, f.workers[0].Out, f.workers[1].Out)
	}
	builds := strings.Count(f.workers[0].Out.String()+f.workers[1].Out.String(), "misc/slow: building on slot")
	if builds != 1 {
		t.Errorf("misc/slow was built %d times, want once (the restarted controller attaches to its build)", builds)
	}
	for _, node := range []string{"ports-mgmt/pkg", "devel/libmini"} {
		n := 0
		for _, a := range attemptsOf(t, f.dir, node) {
			if a.Status == record.AttemptSuccess {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d successful attempts, want 1 (resumed, not rebuilt)", node, n)
		}
	}
	db := e2eRecords(t, f.dir)
	runs, _ := db.Runs()
	db.Close()
	if len(runs) != 2 || runs[0].Status != record.RunCrashed || runs[1].Status != record.RunSuccess {
		for _, r := range runs {
			t.Logf("run %s %s", r.ID, r.Status)
		}
		t.Errorf("runs: want a crashed one, then a success")
	}

	// A new version of misc/slow, built while the Temporal server restarts.
	editFile(t, filepath.Join(f.dir, "ports", "misc", "slow", "Makefile"), func(s string) string {
		return strings.Replace(s, "PORTVERSION=\t1.0", "PORTVERSION=\t1.1", 1)
	})
	ctl3 := f.apply("p.hcl")
	f.waitBuilding("misc/slow", ctl3.Done())
	f.tp.Stop()
	f.tp.Start()
	if code := ctl3.Wait(); code != 0 {
		t.Fatalf("apply across a Temporal restart: exit %d\n%s\nworkers:\n%s\n%s", code, ctl3.Out, f.workers[0].Out, f.workers[1].Out)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "base", "packages", "All", "slow-1.1.pkg")); err != nil {
		t.Errorf("slow-1.1 was not built: %v\n%s", err, ctl3.Out)
	}
}
