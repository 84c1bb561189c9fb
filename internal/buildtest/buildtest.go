package buildtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/record"
	"github.com/go-dsynth/dsynth/spec"
)

// Env is one test build environment: Base holds ports/ (a git
// repository), build/ (the build base) and profile.hcl.
type Env struct {
	T       testing.TB
	Base    string
	Ports   string
	Profile string
	commits int
}

// Need skips t unless it runs as root with bmake, gcc and git.
func Need(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (real slots)")
	}
	for _, tool := range []string{"bmake", "gcc", "git", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

// New copies testdata/ports/<tree> into a new git repository (one commit)
// and writes a profile building targets with the given extra profile body.
func New(t testing.TB, tree string, targets []string, body string) *Env {
	t.Helper()
	Need(t)
	base := t.TempDir()
	e := &Env{T: t, Base: base, Ports: filepath.Join(base, "ports"), Profile: filepath.Join(base, "profile.hcl")}
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "ports", tree)
	if out, err := exec.Command("cp", "-a", src, e.Ports).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v: %s", src, err, out)
	}
	e.Git("init", "-q", "-b", "main")
	e.Commit("initial tree")
	e.WriteProfile(targets, body)
	return e
}

// WriteProfile (re)writes the profile.
func (e *Env) WriteProfile(targets []string, body string) {
	q := make([]string, len(targets))
	for i, t := range targets {
		q[i] = fmt.Sprintf("%q", t)
	}
	hcl := fmt.Sprintf(`profile "test" {
  ports_dir  = %q
  build_base = %q
  ports      = [%s]
  workers {
    count    = 2
    max_jobs = 1
    throttle = false
  }
  environment {
    isolation = "chroot"
    network   = "none"
  }
%s
}
`, e.Ports, filepath.Join(e.Base, "build"), strings.Join(q, ", "), body)
	if err := os.WriteFile(e.Profile, []byte(hcl), 0o644); err != nil {
		e.T.Fatal(err)
	}
}

// Git runs git in the ports repository and returns its output.
func (e *Env) Git(args ...string) string {
	e.T.Helper()
	cmd := exec.Command("git", append([]string{"-C", e.Ports}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.T.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Commit commits every change of the tree with a distinct committer time.
func (e *Env) Commit(msg string) string {
	e.T.Helper()
	e.commits++
	date := fmt.Sprintf("%d +0000", 1700000000+e.commits*3600)
	e.Git("add", "-A")
	cmd := exec.Command("git", "-C", e.Ports, "commit", "-q", "--allow-empty", "-m", msg)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org",
		"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	if out, err := cmd.CombinedOutput(); err != nil {
		e.T.Fatalf("git commit: %v: %s", err, out)
	}
	return e.Git("rev-parse", "HEAD")
}

// Edit rewrites a file of the tree (path relative to Ports) with fn.
func (e *Env) Edit(rel string, fn func(string) string) {
	e.T.Helper()
	p := filepath.Join(e.Ports, rel)
	b, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		e.T.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(fn(string(b))), 0o644); err != nil {
		e.T.Fatal(err)
	}
}

// Load loads the profile.
func (e *Env) Load() *spec.Loaded {
	e.T.Helper()
	l, diags := spec.Load(e.Profile, spec.Options{})
	if diags.HasErrors() {
		e.T.Fatalf("profile: %s", diags.Error())
	}
	return l
}

// Plan makes a plan of the profile (with the records) and returns it with
// its file.
func (e *Env) Plan() *planfile.File {
	e.T.Helper()
	l := e.Load()
	if err := os.MkdirAll(filepath.Dir(l.Profile.Records), 0o755); err != nil {
		e.T.Fatal(err)
	}
	db, err := record.Open(l.Profile.Records, record.Options{})
	if err != nil {
		e.T.Fatal(err)
	}
	defer db.Close()
	p, _, err := plan.Create(context.Background(), plan.Options{Profile: l.Profile, ProfileSource: l.Source, DB: db, DsynthVersion: "test"})
	if err != nil {
		e.T.Fatalf("plan: %v", err)
	}
	return PlanFile(e.T, p)
}

// Apply applies o.Plan in a session on its build base, as a front end
// does (execute.Open, Session.Apply, Close).
func Apply(t testing.TB, ctx context.Context, o execute.Options) (*execute.Summary, error) {
	t.Helper()
	s, err := execute.Open(o.Plan.Plan().Settings.BuildBase, nil)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Apply(ctx, o)
}

// PlanFile is planfile.Encode(p); it fails the test on an error.
func PlanFile(t testing.TB, p *plan.Plan) *planfile.File {
	t.Helper()
	f, err := planfile.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Apply plans and applies the profile in real slots and returns the plan
// and the run summary; it fails the test unless every port built or was
// up to date.
func (e *Env) Apply() (*plan.Plan, *execute.Summary) {
	e.T.Helper()
	f := e.Plan()
	p := f.Plan()
	l := execute.SlotLayout(p)
	for _, d := range []string{l.DistfilesDir, l.OptionsDir, l.PackagesDir} {
		os.MkdirAll(d, 0o755)
	}
	sum, err := Apply(e.T, context.Background(), execute.Options{Plan: f,
		Isolator: execute.SlotIsolator(l), Publisher: execute.PlanPublisher(p)})
	if err != nil {
		e.T.Fatalf("apply: %v", err)
	}
	if !sum.Complete() {
		e.T.Fatalf("apply: run %s %s: failed %v skipped %v (logs in %s)", sum.RunID, sum.Status, sum.Failed, sum.Skipped, p.Settings.LogsDir)
	}
	return p, sum
}

// Records opens the records database read-only.
func (e *Env) Records() *record.DB {
	e.T.Helper()
	l := e.Load()
	db, err := record.Open(l.Profile.Records, record.Options{ReadOnly: true})
	if err != nil {
		e.T.Fatal(err)
	}
	return db
}
