package replay_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/execute/replay"
	"github.com/go-dsynth/dsynth/internal/buildtest"
	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
)

func TestMain(m *testing.M) {
	isolate.MaybeRunHelper()
	os.Exit(m.Run())
}

// ndUser is a port depending on misc/nondeterministic (run time).
const ndUser = `PORTNAME=	nd-user
PORTVERSION=	1.0
CATEGORIES=	misc
COMMENT=	Depends on a non-reproducible package
NO_BUILD=	yes
RUN_DEPENDS=	${LOCALBASE}/share/nondeterministic/stamp:misc/nondeterministic
PLIST_FILES=	share/nd-user/README

do-install:
	${MKDIR} ${STAGEDIR}${PREFIX}/share/nd-user
	(echo nd-user; uname -n; umask; echo "$$TZ $$LC_ALL $$SOURCE_DATE_EPOCH") > \
	    ${STAGEDIR}${PREFIX}/share/nd-user/README

.include "${PORTSDIR}/Mk/bsd.port.mk"
`

var targets = []string{"misc/minicat", "misc/nd-user"}

func newEnv(t *testing.T) *buildtest.Env {
	e := buildtest.New(t, "good", targets, "")
	e.Edit("misc/nd-user/Makefile", func(string) string { return ndUser })
	e.Commit("add misc/nd-user")
	return e
}

// dirSums returns the SHA-256 of every file under dir.
func dirSums(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(b)
		out[p] = hex.EncodeToString(s[:])
		return nil
	})
	return out
}

func verdicts(r *replay.Report) map[string]string {
	m := map[string]string{}
	for _, p := range r.Ports {
		m[p.Node] = p.Verdict
	}
	return m
}

// Apply at one commit, move the tree on (new commits changing ports),
// replay the old run: the pinned commit is checked out in a temporary
// worktree, every port is rebuilt into a separate packages directory,
// every package reproduces except misc/nondeterministic, whose dependent
// still builds.
func TestReplayOldRunAfterTreeMoved(t *testing.T) {
	e := newEnv(t)
	p1, sum1 := e.Apply()
	pinned := p1.Tree.GitCommit
	if pinned == "" || p1.Tree.SourceDateEpoch != 1700000000+2*3600 {
		t.Fatalf("plan pins commit %q, SOURCE_DATE_EPOCH %d", pinned, p1.Tree.SourceDateEpoch)
	}

	// The tree moves on: libmini gets a new revision, minicat a new file.
	e.Edit("devel/libmini/Makefile", func(s string) string {
		return strings.Replace(s, "PORTVERSION=\t1.2\n", "PORTVERSION=\t1.2\nPORTREVISION=\t1\n", 1)
	})
	e.Commit("libmini: bump revision")
	e.Edit("misc/minicat/pkg-descr", func(string) string { return "minicat, new description\n" })
	e.Commit("minicat: description")

	live := p1.Settings.PackagesDir
	before := dirSums(t, live)
	db := e.Records()
	pkgsBefore, err := db.Packages()
	if err != nil {
		t.Fatal(err)
	}
	src, err := replay.FromRun(db, sum1.RunID[:8])
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	sess := openSession(t, src)
	pr, err := replay.Prepare(context.Background(), sess, src, replay.Options{})
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	wt := filepath.Join(p1.Settings.BuildBase, "replay", sum1.RunID, "ports")
	if !strings.Contains(pr.Tree, "worktree of pinned commit "+pinned) {
		t.Errorf("tree = %q, want the pinned commit's worktree", pr.Tree)
	}
	if got := strings.TrimSpace(e.Git("-C", wt, "rev-parse", "HEAD")); got != pinned {
		t.Errorf("worktree at %s, want %s", got, pinned)
	}
	if n := pr.Builds(); n != len(p1.Ports) {
		t.Errorf("replay builds %d ports, want all %d", n, len(p1.Ports))
	}
	rep, err := pr.Run(context.Background())
	if cerr := pr.Close(); cerr != nil {
		t.Error(cerr)
	}
	sess.Close()
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	var buf strings.Builder
	replay.RenderHuman(&buf, rep)
	t.Logf("\n%s", buf.String())

	want := map[string]string{}
	for _, n := range p1.Ports {
		want[n.ID] = replay.VerdictReproduced
	}
	want["misc/nondeterministic"] = replay.VerdictDiffers
	if got := verdicts(rep); !equal(got, want) {
		t.Errorf("verdicts %v\nwant %v", got, want)
	}
	if rep.ExitCode != replay.ExitDiffers {
		t.Errorf("exit code %d, want %d", rep.ExitCode, replay.ExitDiffers)
	}
	if want := "4/5 reproduced bit-for-bit (1 differ)"; rep.Summary() != want {
		t.Errorf("summary %q, want %q", rep.Summary(), want)
	}
	for _, r := range rep.Ports {
		if r.Verdict != replay.VerdictDiffers {
			continue
		}
		if r.OriginalSHA256 == "" || r.ReplaySHA256 == "" || r.OriginalSHA256 == r.ReplaySHA256 {
			t.Errorf("differs without two hashes: %+v", r)
		}
		found := false
		for _, d := range r.Differences {
			if d.Member == "usr/local/share/nondeterministic/stamp" && d.Field == "content" && d.Offset >= 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("differences %v do not name the stamp file's content", r.Differences)
		}
	}

	// The worktree is gone, the live packages and records untouched.
	if _, err := os.Stat(wt); !os.IsNotExist(err) {
		t.Errorf("worktree %s left behind: %v", wt, err)
	}
	if wl := e.Git("worktree", "list"); strings.Count(wl, "\n") != 0 {
		t.Errorf("git worktree list:\n%s", wl)
	}
	if after := dirSums(t, live); !equal(before, after) {
		t.Errorf("live packages_dir changed by the replay")
	}
	db = e.Records()
	defer db.Close()
	pkgsAfter, _ := db.Packages()
	if len(pkgsAfter) != len(pkgsBefore) {
		t.Errorf("package records changed")
	}
	for k, v := range pkgsBefore {
		if pkgsAfter[k] != v {
			t.Errorf("package record %s changed: %+v -> %+v", k, v, pkgsAfter[k])
		}
	}
	run, err := db.Run(rep.ReplayRun)
	if err != nil {
		t.Fatal(err)
	}
	if run.ReplayOf != sum1.RunID || run.PackagesDir != pr.PackagesDir {
		t.Errorf("replay run: replay_of %q packages %q", run.ReplayOf, run.PackagesDir)
	}
	// The run keeps the plan it applied: the replay's folders, its digest.
	if rf, err := planfile.Decode(run.Plan); err != nil || rf.Digest() != run.PlanDigest || run.PlanDigest == p1.Digest ||
		rf.Plan().Settings.PackagesDir != pr.PackagesDir {
		t.Errorf("replay run's plan: %v, digest %s (run %s, original %s)", err, rf.Digest(), run.PlanDigest, p1.Digest)
	}
	if got := dirSums(t, filepath.Join(pr.PackagesDir, "All")); len(got) != 5 {
		t.Errorf("replay packages: %v", got)
	}
	// The fixed build environment, as a build saw it.
	readme, err := exec.Command("tar", "-xOf", filepath.Join(pr.PackagesDir, "All", "nd-user-1.0.pkg"),
		"usr/local/share/nd-user/README").Output()
	if want := "nd-user\ndsynth-builder\n0022\nUTC C 1700007200\n"; err != nil || string(readme) != want {
		t.Errorf("build environment seen by the port: %q %v, want %q", readme, err, want)
	}
	db.Close()

	// Apply the moved tree: libmini and minicat are rebuilt (the new
	// commit's SOURCE_DATE_EPOCH), the other ports are up to date with
	// packages built from the first commit. A replay of that run rebuilds
	// each of them with the epoch it was built with, so nd-user (which
	// embeds it) reproduces too.
	p2, sum2 := e.Apply()
	if p2.Tree.SourceDateEpoch == p1.Tree.SourceDateEpoch || sum2.Counts.Built != 2 {
		t.Fatalf("second apply: epoch %d (first %d), counts %+v", p2.Tree.SourceDateEpoch, p1.Tree.SourceDateEpoch, sum2.Counts)
	}
	db = e.Records()
	src, err = replay.FromRun(db, sum2.RunID)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	sess = openSession(t, src)
	if pr, err = replay.Prepare(context.Background(), sess, src, replay.Options{}); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	rep, err = pr.Run(context.Background())
	pr.Close()
	sess.Close()
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := verdicts(rep); !equal(got, want) {
		t.Errorf("replay of a run with up-to-date ports: verdicts %v\nwant %v", got, want)
	}
}

// A plan made from a dirty checkout: the replay needs the uncommitted
// change, which the pinned commit lacks, and refuses naming the port. A
// pinned commit gone from the repository refuses too, and so does a plan
// whose pinned CRC was altered.
func TestReplayRefuses(t *testing.T) {
	e := buildtest.New(t, "good", []string{"misc/minicat"}, "")
	ctx := context.Background()
	planFile := func(p *plan.Plan) string {
		f := filepath.Join(t.TempDir(), "plan.json")
		if err := buildtest.PlanFile(t, p).Write(f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	prepare := func(p *plan.Plan) error {
		src, err := replay.FromPlanFile(planFile(p))
		if err != nil {
			t.Fatal(err)
		}
		sess := openSession(t, src)
		defer sess.Close()
		pr, err := replay.Prepare(ctx, sess, src, replay.Options{})
		if err == nil {
			pr.Close()
		}
		return err
	}

	t.Run("dirty", func(t *testing.T) {
		e.Edit("devel/libmini/Makefile", func(s string) string { return s + "# local change\n" })
		p := e.Plan().Plan()
		if !p.Tree.GitDirty {
			t.Fatal("plan of a dirty tree not marked dirty")
		}
		// Still the same tree: the replay can use it.
		if err := prepare(p); err != nil {
			t.Fatalf("replay of the unchanged dirty tree: %v", err)
		}
		e.Git("checkout", "--", ".")
		err := prepare(p)
		var me *replay.MismatchError
		if !errors.As(err, &me) {
			t.Fatalf("got %v, want a mismatch", err)
		}
		if got := strings.Join(me.Ports(), " "); got != "devel/libmini" {
			t.Errorf("mismatching ports %q (error: %v)", got, err)
		}
		if !strings.Contains(err.Error(), "dirty checkout") {
			t.Errorf("error does not say the plan was dirty: %v", err)
		}
	})

	t.Run("crc", func(t *testing.T) {
		p := e.Plan().Plan()
		n := p.Node("misc/minicat")
		n.CRC32, n.PortHash = "0badc0de", strings.Repeat("0", 64)
		err := prepare(p)
		var me *replay.MismatchError
		if !errors.As(err, &me) || strings.Join(me.Ports(), " ") != "misc/minicat" {
			t.Fatalf("got %v, want a mismatch of misc/minicat", err)
		}
	})

	t.Run("missing-commit", func(t *testing.T) {
		base := e.Git("rev-parse", "HEAD")
		e.Edit("misc/minicat/Makefile", func(s string) string { return s + "# soon lost\n" })
		e.Commit("to be lost")
		p := e.Plan().Plan()
		e.Git("reset", "-q", "--hard", base)
		e.Git("reflog", "expire", "--expire=now", "--all")
		e.Git("gc", "-q", "--prune=now")
		err := prepare(p)
		if !errors.Is(err, replay.ErrCommitMissing) {
			t.Fatalf("got %v, want ErrCommitMissing", err)
		}
		if !strings.Contains(err.Error(), p.Tree.GitCommit) {
			t.Errorf("error does not name the commit: %v", err)
		}
	})
}

// The replay packages directory may not be the live one, nor a non-empty
// directory dsynth did not make.
func TestReplayPackagesDir(t *testing.T) {
	e := buildtest.New(t, "good", []string{"misc/nondeterministic"}, "")
	p := e.Plan().Plan()
	f := filepath.Join(t.TempDir(), "plan.json")
	if err := buildtest.PlanFile(t, p).Write(f); err != nil {
		t.Fatal(err)
	}
	src, err := replay.FromPlanFile(f)
	if err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "keep"), []byte("x"), 0o644)
	sess := openSession(t, src)
	for _, dir := range []string{p.Settings.PackagesDir, filepath.Join(p.Settings.PackagesDir, "sub"), other} {
		if pr, err := replay.Prepare(context.Background(), sess, src, replay.Options{PackagesDir: dir}); err == nil {
			pr.Close()
			t.Errorf("packages dir %s accepted", dir)
		}
	}
	if _, err := os.Stat(filepath.Join(other, "keep")); err != nil {
		t.Errorf("a refused directory was emptied")
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}

// openSession holds src's build base until the test ends (or Close).
func openSession(t testing.TB, src *replay.Source) *execute.Session {
	t.Helper()
	s, err := execute.Open(src.Plan.Settings.BuildBase, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
