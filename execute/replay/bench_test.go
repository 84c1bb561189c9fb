package replay_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/go-dsynth/dsynth/execute/replay"
	"github.com/go-dsynth/dsynth/internal/buildtest"
)

// BenchmarkPrepare measures what a replay costs before building: checking
// out the pinned commit of the whole good tree in a git worktree,
// verifying every pinned hash and input key there, and removing the
// worktree. ports/op is the plan's size.
func BenchmarkPrepare(b *testing.B) {
	e := buildtest.New(b, "good", []string{"all"}, "")
	p := e.Plan().Plan()
	f := filepath.Join(b.TempDir(), "plan.json")
	if err := buildtest.PlanFile(b, p).Write(f); err != nil {
		b.Fatal(err)
	}
	e.Edit("misc/minicat/Makefile", func(s string) string { return s + "# moved on\n" })
	e.Commit("tree moves on")
	src, err := replay.FromPlanFile(f)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sess := openSession(b, src)
		pr, err := replay.Prepare(context.Background(), sess, src, replay.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := pr.Close(); err != nil {
			b.Fatal(err)
		}
		sess.Close()
	}
	b.ReportMetric(float64(len(p.Ports)), "ports/op")
}
