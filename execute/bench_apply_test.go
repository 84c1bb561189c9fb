package execute_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/internal/buildtest"
	"github.com/go-dsynth/dsynth/internal/portgen"
	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
	"github.com/go-dsynth/dsynth/spec"
)

func TestMain(m *testing.M) {
	isolate.MaybeRunHelper()
	os.Exit(m.Run())
}

// BenchmarkApplyGenerated plans and applies a generated tree of trivial
// ports (portgen, seed 42) with 2 workers in real slots and reports per
// built port: the wall time, the make phases, the dependency installs
// (pkg bootstrap and pkg-static add, the tree's tool) and dsynth's own
// orchestration overhead (the rest of an attempt: slot prepare and
// teardown, records, hashing and moving the package). The tree has 300
// ports (306 nodes) by default, as issue 5 asks: about 9 minutes on 2
// cores, nearly all of it in bmake and the tree's shell pkg-static
// installing dependency closures; DSYNTH_BENCH_PORTS=N runs another size.
func BenchmarkApplyGenerated(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	if _, err := exec.LookPath("bmake"); err != nil {
		b.Skip("bmake not installed")
	}
	n := 300
	if v, err := strconv.Atoi(os.Getenv("DSYNTH_BENCH_PORTS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		tree := filepath.Join(dir, "ports")
		if err := portgen.Generate(tree, portgen.Options{N: n, Seed: 42}); err != nil {
			b.Fatal(err)
		}
		base := filepath.Join(dir, "base")
		prof := &spec.Profile{Name: "bench", PortsDir: tree, BuildBase: base, PackagesDir: filepath.Join(base, "packages"),
			DistfilesDir: filepath.Join(base, "distfiles"), OptionsDir: filepath.Join(base, "options"),
			LogsDir: filepath.Join(base, "logs"), Records: filepath.Join(base, "records.db"), SystemDir: "/",
			PackageSuffix: ".pkg", MakeCommand: "bmake", MakeConf: map[string]string{}, Targets: []string{"all"},
			Ports: map[string]spec.PortSettings{}, Workers: spec.Workers{Count: 2, MaxJobs: 1, NoThrottle: true},
			Environment: spec.Environment{Isolation: "chroot", Network: spec.NetworkNone, Env: map[string]string{}}}
		for _, d := range []string{prof.PackagesDir, prof.DistfilesDir, prof.OptionsDir} {
			os.MkdirAll(d, 0o755)
		}
		p, _, err := plan.Create(context.Background(), plan.Options{Profile: prof})
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		t0 := time.Now()
		sum, err := buildtest.Apply(b, context.Background(), execute.Options{Plan: buildtest.PlanFile(b, p), Isolator: execute.SlotIsolator(execute.SlotLayout(p))})
		wall := time.Since(t0)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if !sum.Complete() {
			b.Fatalf("run not complete: %+v", sum)
		}
		db, err := record.Open(prof.Records, record.Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		atts, _ := db.RunAttempts(sum.RunID)
		db.Close()
		// Per attempt: make phases, pkg bootstrap and dependency installs
		// (the tree's pkg tool), and the rest: dsynth's orchestration.
		var overhead, phases, installs time.Duration
		built := 0
		for _, a := range atts {
			if a.Status != record.AttemptSuccess || len(a.Phases) == 0 {
				continue
			}
			built++
			var ph, in time.Duration
			for _, x := range a.Phases {
				if x.Name == "install-pkg" || x.Name == "install-deps" {
					in += x.End.Sub(x.Start)
				} else {
					ph += x.End.Sub(x.Start)
				}
			}
			phases += ph
			installs += in
			overhead += a.Duration() - ph - in
		}
		if built == 0 {
			b.Fatal("nothing built")
		}
		b.ReportMetric(float64(len(p.Ports)), "ports")
		b.ReportMetric(float64(wall.Milliseconds())/float64(built), "ms-wall/port")
		b.ReportMetric(float64(overhead.Milliseconds())/float64(built), "ms-overhead/port")
		b.ReportMetric(float64(phases.Milliseconds())/float64(built), "ms-make/port")
		b.ReportMetric(float64(installs.Milliseconds())/float64(built), "ms-pkg-add/port")
		fmt.Fprintf(os.Stderr, "apply of %d generated ports, 2 workers: %s wall, %d built\n", len(p.Ports), wall.Round(time.Millisecond), built)
	}
}
