package plan

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/internal/portgen"
	"github.com/go-dsynth/dsynth/plan/portscan"
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
//	warm-maxrss-MB  peak RSS of a warm plan in a child process
func BenchmarkPlan2000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchPlan(b, 2000, 200)
	}
}

func benchPlan(b *testing.B, n, sample int) {
	b.StopTimer()
	dir := b.TempDir()
	tree := filepath.Join(dir, "ports")
	if err := portgen.Generate(tree, portgen.Options{N: n, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	prof := testProfile(tree, dir, "all")
	ctx := context.Background()

	origins, err := ListPorts(tree)
	if err != nil {
		b.Fatal(err)
	}
	// Floor: sequential single-port make -V on a random sample, half
	// measured before and half after the cold plan (this machine's load
	// varies; both halves see it).
	env, _ := ResolveEnvironment(prof)
	r := rand.New(rand.NewPCG(1, 2))
	var single time.Duration
	measure := func(k int) {
		menv := append(env.MakeEnv(nil, Paths{PortsDir: tree, OptionsDir: prof.OptionsDir}), "PATH="+defaultPath)
		menv = append(menv, HostMakeEnv()...)
		for ; k > 0; k-- {
			o := origins[r.IntN(len(origins))]
			t0 := time.Now()
			if _, err := portscan.Query(ctx, MakeCommand(prof), filepath.Join(tree, o), "", menv); err != nil {
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
				if _, err := portscan.Query(ctx, MakeCommand(prof), filepath.Join(tree, o), "", menv); err != nil {
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
	_, rss := runPlanChild(b, tree, dir)

	b.ReportMetric(cold.Seconds(), "cold-s")
	b.ReportMetric(float64(rss)/1024, "warm-maxrss-MB")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(float64(cold)/float64(floor), "cold/floor")
	b.ReportMetric(warm.Seconds(), "warm-s")
	b.ReportMetric(float64(cold)/float64(warm), "warm-speedup")
	b.ReportMetric(float64(st3.MakeRuns), "leaf-makes")
	b.Logf("%d ports, %d make runs, single make -V %.1f ms (mean of %d)", st.Nodes, st.MakeRuns, mean.Seconds()*1000, sample)
}

// BenchmarkPlan30000RSS measures the peak RSS of a warm plan of a
// 30,000-port tree in a child process (goal < 500 MB). Generating and
// cold-scanning 30,000 ports takes about 30,000 make runs (20+ minutes on
// two CPUs), so it runs only with DSYNTH_BENCH_30K=1.
func BenchmarkPlan30000RSS(b *testing.B) {
	if os.Getenv("DSYNTH_BENCH_30K") == "" {
		b.Skip("set DSYNTH_BENCH_30K=1 to run (20+ minutes)")
	}
	n := 30000
	if v, err := strconv.Atoi(os.Getenv("DSYNTH_BENCH_30K")); err == nil && v > 1 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		tree := filepath.Join(dir, "ports")
		if err := portgen.Generate(tree, portgen.Options{N: n, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		cold, coldRSS := runPlanChild(b, tree, dir)
		warm, warmRSS := runPlanChild(b, tree, dir)
		b.ReportMetric(float64(n), "ports")
		b.ReportMetric(cold.Seconds(), "cold-s")
		b.ReportMetric(float64(coldRSS)/1024, "cold-maxrss-MB")
		b.ReportMetric(warm.Seconds(), "warm-s")
		b.ReportMetric(float64(warmRSS)/1024, "warm-maxrss-MB")
	}
}

// runPlanChild plans the tree in a child process (TestPlanChild) and
// returns its wall time and peak RSS in KiB.
func runPlanChild(b *testing.B, tree, dir string) (time.Duration, int64) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestPlanChild$", "-test.v")
	cmd.Env = append(os.Environ(), "DSYNTH_PLAN_CHILD="+tree, "DSYNTH_PLAN_CHILD_DIR="+dir)
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(t0)
	if err != nil {
		b.Fatalf("child: %v\n%s", err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	b.Logf("child: %s", lastLine(out))
	return d, int64(ru.Maxrss)
}

// lastLine returns the child's summary line ("N nodes, ...").
func lastLine(b []byte) string {
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, " make runs, ") {
			return l
		}
	}
	return ""
}

// TestPlanChild is the child process of BenchmarkPlan30000RSS.
func TestPlanChild(t *testing.T) {
	tree, dir := os.Getenv("DSYNTH_PLAN_CHILD"), os.Getenv("DSYNTH_PLAN_CHILD_DIR")
	if tree == "" || dir == "" {
		t.Skip("only run as a benchmark child")
	}
	prof := testProfile(tree, dir, "all")
	db := openDB(t, dir)
	_, st, err := Create(context.Background(), Options{Profile: prof, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%d nodes, %d make runs, %d cached\n", st.Nodes, st.MakeRuns, st.CacheHits)
	// DSYNTH_PLAN_CHILD_MEMPROFILE=FILE writes a heap profile of what is
	// still live at the end (go tool pprof -sample_index=alloc_space for
	// the allocations), to look into the peak RSS.
	if f := os.Getenv("DSYNTH_PLAN_CHILD_MEMPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		if err := pprof.Lookup("allocs").WriteTo(out, 0); err != nil {
			t.Fatal(err)
		}
	}
}
