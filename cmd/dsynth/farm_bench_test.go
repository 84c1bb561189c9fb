package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/internal/farmtest"
	"github.com/go-dsynth/dsynth/internal/portgen"
)

// BenchmarkFarm applies one generated sleep-bound tree (portgen seed 2:
// 12 ports sleeping 3 s each in a shallow DAG, 6 edges, a 9 s critical
// path, plus ports-mgmt/pkg first) four ways, each
// on a fresh build base: locally with 1 worker, on a farm of 1 build host,
// on 2 build hosts, and on 2 build hosts one of which is SIGKILLed
// mid-build and started again at once. It reports the 2-host/1-host
// makespan ratio (goal <= 0.55), the farm's dispatch overhead per port
// (1-host farm minus local, per port) and what the lost host cost (killed
// run minus 2-host run: the 3 s heartbeat timeout and the lost build).
func BenchmarkFarm(b *testing.B) {
	farmtest.Need(b)
	if _, err := exec.LookPath("bmake"); err != nil {
		b.Skip("bmake not installed")
	}
	buildE2EBin(b)
	const ports = 12
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		tree := filepath.Join(dir, "ports")
		if err := portgen.Generate(tree, portgen.Options{N: ports, Seed: 2, MaxDeps: 1, Hubs: 0.01, Libraries: 0.01,
			SleepMin: 3 * time.Second, SleepMax: 3 * time.Second}); err != nil {
			b.Fatal(err)
		}
		nt := farmtest.NewNet(b, 2)
		tp := farmtest.StartTemporal(b, nt.HostIP, b.TempDir())
		run := func(name string, hosts int, kill bool) time.Duration {
			base := filepath.Join(dir, name)
			os.MkdirAll(base, 0o755)
			exec := ""
			if hosts > 0 {
				exec = fmt.Sprintf(`  executor "temporal" {
    address           = %q
    listen            = "%s:%d"
    heartbeat_timeout = "3s"
  }
`, tp.Addr, nt.HostIP, 20000+(os.Getpid()+hosts*7+len(name))%20000)
			}
			prof := filepath.Join(base, "p.hcl")
			os.WriteFile(prof, []byte(fmt.Sprintf(`profile "bench" {
  ports_dir  = %q
  build_base = %q
  ports      = ["all"]
  workers {
    count    = 2
    max_jobs = 1
    throttle = false
  }
  environment {
    network = "none"
  }
%s}
`, tree, filepath.Join(base, "build"), exec)), 0o644)
			workers := map[string]*farmtest.Process{}
			startHost := func(h int) {
				hn := fmt.Sprintf("%s-host%d", name, h)
				workers[hn] = farmtest.Start(b, osexec("ip", "netns", "exec", nt.NS[h], e2eBin, "worker", "-temporal", tp.Addr,
					"-ports", tree, "-build-base", filepath.Join(base, fmt.Sprintf("host%d", h)), "-name", hn, "-slots", "1"))
			}
			for h := 0; h < hosts; h++ {
				startHost(h)
			}
			args := []string{"apply", "-auto-approve", "-workers", "1", prof}
			if hosts > 0 {
				// Twice the farm's slots in flight: the next build waits
				// on the host's queue while it builds (docs/farm.md).
				args = []string{"apply", "-auto-approve", "-executor", "temporal", "-workers", fmt.Sprint(2 * hosts), prof}
			}
			cmd := osexec(e2eBin, args...)
			cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(base, "state"))
			t0 := time.Now()
			ctl := farmtest.Start(b, cmd)
			if kill {
				// The first host seen in a build phase is lost, and started
				// again at once (as a service manager would): the cost is
				// the heartbeat timeout and the lost build.
				victim := waitHostBuilding(b, filepath.Join(base, "build"), "", ctl.Done())
				workers[victim].Kill()
				var h int
				fmt.Sscanf(strings.TrimPrefix(victim, name+"-"), "host%d", &h)
				startHost(h)
			}
			if code := ctl.Wait(); code != 0 {
				b.Fatalf("%s: exit %d\n%s", name, code, ctl.Out)
			}
			d := time.Since(t0)
			for h := 0; h < hosts; h++ {
				workers[fmt.Sprintf("%s-host%d", name, h)].Stop()
				osexec(e2eBin, "cleanup", "-build-base", filepath.Join(base, fmt.Sprintf("host%d", h))).Run()
			}
			return d
		}
		local := run("local", 0, false)
		one := run("farm1", 1, false)
		two := run("farm2", 2, false)
		killed := run("farm2kill", 2, true)
		b.ReportMetric(local.Seconds(), "local-1-worker-s")
		b.ReportMetric(one.Seconds(), "farm-1-host-s")
		b.ReportMetric(two.Seconds(), "farm-2-hosts-s")
		b.ReportMetric(two.Seconds()/one.Seconds(), "2-hosts/1-host")
		b.ReportMetric((one-local).Seconds()/float64(ports+1)*1000, "dispatch-ms/port")
		b.ReportMetric((killed - two).Seconds(), "lost-host-cost-s")
		b.Logf("local %s, 1 host %s, 2 hosts %s (ratio %.2f, goal <= 0.55), 2 hosts with one SIGKILLed %s",
			local.Round(time.Millisecond), one.Round(time.Millisecond), two.Round(time.Millisecond), two.Seconds()/one.Seconds(), killed.Round(time.Millisecond))
	}
}

func osexec(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
