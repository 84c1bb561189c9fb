package plan

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/internal/portgen"
	"github.com/go-dsynth/dsynth/plan/portscan"
	"github.com/go-dsynth/dsynth/spec"
)

// BenchmarkPlan2000 generates a 2,000-port tree and reports, from one run:
//
//	cold-s        wall time of a cold plan (empty metadata cache)
//	floor-s       (sum of single-port make -V times) / CPUs, the sum
//	              estimated from a sequential sample of 200 ports
//	cold/floor    the ratio of the two (goal <= 1.2)
//	warm-s        a re-plan of the unchanged tree (all from the cache)
//	warm-speedup  cold-s / warm-s (goal >= 20)
//	leaf-makes    make runs of a re-plan after editing one leaf port (goal 1)
//	warm-maxrss-MB  peak RSS of a warm `dsynth plan` (the real binary)
func BenchmarkPlan2000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchPlan(b, 2000, 200)
	}
}

func benchPlan(b *testing.B, n, sample int) {
	b.StopTimer()
	b.Setenv(memoEnv, "") // the memo as users have it, not checked (see TestMain)
	dir := b.TempDir()
	tree := filepath.Join(dir, "ports")
	if err := portgen.Generate(tree, portgen.Options{N: n, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	prof, hcl := benchProfile(b, tree, dir)
	ctx := context.Background()

	origins, err := ListPorts(tree)
	if err != nil {
		b.Fatal(err)
	}
	// Floor: sequential single-port make -V on a random sample, half
	// measured before and half after the cold plan (this machine's load
	// varies; both halves see it).
	env, _ := ResolveEnvironment(ptr(SettingsOf(prof)))
	r := rand.New(rand.NewPCG(1, 2))
	var single time.Duration
	measure := func(k int) {
		menv := append(env.MakeEnv(nil, Paths{PortsDir: tree, OptionsDir: prof.OptionsDir}), "PATH="+defaultPath)
		menv = append(menv, HostMakeEnv()...)
		for ; k > 0; k-- {
			o := origins[r.IntN(len(origins))]
			t0 := time.Now()
			if _, err := portscan.Query(ctx, MakeCommand(ptr(SettingsOf(prof))), filepath.Join(tree, o), "", menv); err != nil {
				b.Fatal(err)
			}
			single += time.Since(t0)
		}
	}
	measure(sample / 2)

	db := openDB(b, dir)
	b.StartTimer()
	t0 := time.Now()
	_, st, err := Create(ctx, Options{Profile: prof, DB: db})
	cold := time.Since(t0)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	measure(sample - sample/2)
	mean := single / time.Duration(sample)
	floor := mean * time.Duration(st.MakeRuns) / time.Duration(runtime.NumCPU())
	// The floor assumes make runs scale perfectly over the CPUs. Measure
	// what this machine really gives: the same kind of sample run by
	// NumCPU concurrent makes, as xargs -P would, with no planner at all.
	var wg sync.WaitGroup
	menv := append(env.MakeEnv(nil, Paths{PortsDir: tree, OptionsDir: prof.OptionsDir}), "PATH="+defaultPath)
	menv = append(menv, HostMakeEnv()...)
	work := make(chan string)
	t1 := time.Now()
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				if _, err := portscan.Query(ctx, MakeCommand(ptr(SettingsOf(prof))), filepath.Join(tree, o), "", menv); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for range sample {
		work <- origins[r.IntN(len(origins))]
	}
	close(work)
	wg.Wait()
	parFloor := time.Since(t1) * time.Duration(st.MakeRuns) / time.Duration(sample)
	b.ReportMetric(parFloor.Seconds(), "par-floor-s")
	b.ReportMetric(float64(cold)/float64(parFloor), "cold/par-floor")

	t0 = time.Now()
	_, st2, err := Create(ctx, Options{Profile: prof, DB: db})
	warm := time.Since(t0)
	if err != nil {
		b.Fatal(err)
	}
	if st2.MakeRuns != 0 {
		b.Fatalf("warm plan ran make %d times", st2.MakeRuns)
	}

	// Edit a leaf: the last origin nothing depends on.
	p, _, err := Create(ctx, Options{Profile: prof, DB: db})
	if err != nil {
		b.Fatal(err)
	}
	leaf := ""
	for i := range p.Ports {
		if p.Ports[i].Priority == 0 && p.Ports[i].Flavor == "" && p.Ports[i].Origin != PkgOrigin {
			leaf = p.Ports[i].Origin
		}
	}
	appendFile(b, filepath.Join(tree, leaf, "Makefile"), "# edited\n")
	_, st3, err := Create(ctx, Options{Profile: prof, DB: db})
	if err != nil {
		b.Fatal(err)
	}

	db.Close() // the child opens it
	_, rss, makes := runPlan(b, buildDsynth(b), hcl)
	if makes != 0 {
		b.Fatalf("dsynth plan after the in-process plans ran make %d times: not warm", makes)
	}

	b.ReportMetric(cold.Seconds(), "cold-s")
	b.ReportMetric(float64(rss)/1024, "warm-maxrss-MB")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(float64(cold)/float64(floor), "cold/floor")
	b.ReportMetric(warm.Seconds(), "warm-s")
	b.ReportMetric(float64(cold)/float64(warm), "warm-speedup")
	b.ReportMetric(float64(st3.MakeRuns), "leaf-makes")
	b.Logf("%d ports, %d make runs, single make -V %.1f ms (mean of %d)", st.Nodes, st.MakeRuns, mean.Seconds()*1000, sample)
}

// BenchmarkPlan30000RSS measures the wall time and peak RSS of `dsynth
// plan` (the real binary) on a 30,000-port tree: cold (goal < 250 MB),
// warm, an unchanged tree reusing the last plan (goals < 150 MB, < 1.5 s),
// after one port's edit (the other ports' loads from the memo), and that
// re-plan again with DSYNTH_PLAN_MEMO=off (every port from the metadata
// cache). Generating and cold-scanning 30,000 ports
// takes about 30,000 make runs (4 minutes or more on two CPUs), so it runs
// only with DSYNTH_BENCH_30K=1 (or =N for another size).
func BenchmarkPlan30000RSS(b *testing.B) {
	if os.Getenv("DSYNTH_BENCH_30K") == "" {
		b.Skip("set DSYNTH_BENCH_30K=1 to run (5+ minutes)")
	}
	n := 30000
	if v, err := strconv.Atoi(os.Getenv("DSYNTH_BENCH_30K")); err == nil && v > 1 {
		n = v
	}
	b.Setenv(memoEnv, "") // the memo as users have it, not checked (see TestMain)
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		tree := filepath.Join(dir, "ports")
		if err := portgen.Generate(tree, portgen.Options{N: n, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		_, hcl := benchProfile(b, tree, dir)
		// Planning never creates the records file (a plan that is never
		// applied leaves nothing behind): start from an empty one, as
		// the first apply leaves it, so that the cold plan fills the
		// metadata cache the warm one reads.
		openDB(b, dir).Close()
		bin := buildDsynth(b)
		cold, coldRSS, _ := runPlan(b, bin, hcl)
		warm, warmRSS, makes := runPlan(b, bin, hcl)
		if makes != 0 {
			b.Fatalf("second plan ran make %d times: not warm", makes)
		}
		// A re-plan after one port's edit cannot reuse the last plan:
		// it takes the other ports' loads from the memo, and runs make
		// once.
		origins, err := ListPorts(tree)
		if err != nil {
			b.Fatal(err)
		}
		appendFile(b, filepath.Join(tree, origins[len(origins)-1], "Makefile"), "# edited\n")
		edit, editRSS, makes := runPlan(b, bin, hcl)
		if makes != 1 {
			b.Fatalf("plan after editing one port ran make %d times, want 1", makes)
		}
		// The same re-plan without the memo: every port from the
		// metadata cache (what a warm plan was before the memo).
		b.Setenv(memoEnv, "off")
		full, fullRSS, _ := runPlan(b, bin, hcl)
		b.Setenv(memoEnv, "")
		b.ReportMetric(float64(n), "ports")
		b.ReportMetric(cold.Seconds(), "cold-s")
		b.ReportMetric(float64(coldRSS)/1024, "cold-maxrss-MB")
		b.ReportMetric(warm.Seconds(), "warm-s")
		b.ReportMetric(float64(warmRSS)/1024, "warm-maxrss-MB")
		b.ReportMetric(edit.Seconds(), "edit-s")
		b.ReportMetric(float64(editRSS)/1024, "edit-maxrss-MB")
		b.ReportMetric(full.Seconds(), "nomemo-s")
		b.ReportMetric(float64(fullRSS)/1024, "nomemo-maxrss-MB")
		b.ReportMetric(float64(full)/float64(warm), "nomemo/warm")
	}
}

// benchProfile writes the HCL profile the benchmarks plan tree with (all
// ports, records and packages under dir) and returns it resolved, so that
// the in-process plans and `dsynth plan` share one metadata cache.
func benchProfile(b *testing.B, tree, dir string) (*spec.Profile, string) {
	hcl := filepath.Join(dir, "bench.hcl")
	src := fmt.Sprintf(`profile "bench" {
  ports_dir      = %q
  build_base     = %q
  package_suffix = ".pkg"
  make_command   = "bmake"
  make_conf      = { CFLAGS = "-O2" }
  ports          = ["all"]
}
`, tree, dir)
	if err := os.WriteFile(hcl, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	l, diags := spec.Load(hcl, spec.Options{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	return l.Profile, hcl
}

// buildDsynth builds ../cmd/dsynth into a temporary folder of b.
func buildDsynth(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "dsynth")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/dsynth").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runPlan runs `dsynth plan -out FILE PROFILE` with the binary bin and
// returns its wall time, its peak RSS in KiB and the make runs it
// reported.
func runPlan(b *testing.B, bin, hcl string) (time.Duration, int64, int) {
	var stderr strings.Builder
	cmd := exec.Command(bin, "plan", "-out", filepath.Join(filepath.Dir(hcl), "plan.json"), hcl)
	cmd.Stderr = &stderr
	t0 := time.Now()
	err := cmd.Run()
	d := time.Since(t0)
	if err != nil {
		b.Fatalf("dsynth plan: %v\n%s", err, stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var nodes, makes, cached int
	var secs float64
	line := ""
	for _, l := range strings.Split(stderr.String(), "\n") {
		if _, err := fmt.Sscanf(l, "Scanned %d ports: %d make runs, %d from cache, in %fs.", &nodes, &makes, &cached, &secs); err == nil {
			line = l
		}
	}
	if line == "" {
		b.Fatalf("dsynth plan printed no scan summary:\n%s", stderr.String())
	}
	b.Logf("dsynth plan: %s (%.1f MB peak RSS)", line, float64(ru.Maxrss)/1024)
	return d, int64(ru.Maxrss), makes
}
