package replay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/record"
)

// Options configure Prepare.
type Options struct {
	// Records is the records database path (default: the plan profile's).
	Records string
	// PackagesDir receives the replay's packages (default
	// <build_base>/replay/<key>/packages). It must not be (or lie inside,
	// or contain) the profile's packages_dir, and must be empty unless an
	// earlier replay made it.
	PackagesDir string
	// Workers overrides the profile's worker count when > 0.
	Workers int
	// Isolator builds the slots (default: real slots with the plan's
	// layout, the replay tree and packages directory).
	Isolator  execute.Isolator
	Observers []execute.Observer
	Warn      func(string)
}

// markerFile marks a directory made by a replay (safe to empty).
const markerFile = ".dsynth-replay"

// Prepared is a replay ready to build: the tree is materialised and every
// pinned input verified. Close it (it removes a temporary worktree).
type Prepared struct {
	Source *Source
	// Tree describes the ports tree used; Dir is the replay directory
	// (<build_base>/replay/<key>), PackagesDir and LogsDir its outputs.
	Tree        string
	Dir         string
	PackagesDir string
	LogsDir     string
	// Originals are the original packages by node ID.
	Originals map[string]Original

	o    Options
	s    *execute.Session
	tree *tree
	plan *plan.Plan // the plan to apply
	// sde is the SOURCE_DATE_EPOCH each original package was built with.
	sde map[string]string
}

// originalEpochs returns the SOURCE_DATE_EPOCH each original package was
// built with (from its attempt's recorded environment). A port that was up
// to date in the replayed run was built by an earlier run, possibly from
// an earlier commit with another epoch: the replay rebuilds it with that
// one, so that it can reproduce.
func originalEpochs(db *record.DB, orig map[string]Original) (map[string]string, error) {
	out := map[string]string{}
	for id, o := range orig {
		if o.AttemptID == "" {
			continue
		}
		a, err := db.Attempt(o.AttemptID)
		if err != nil {
			return nil, fmt.Errorf("original attempt of %s: %w", id, err)
		}
		for _, e := range a.Env {
			if v, ok := strings.CutPrefix(e, "SOURCE_DATE_EPOCH="); ok {
				out[id] = v
			}
		}
	}
	return out, nil
}

// Prepare loads the original packages of src from the records, finds a
// ports tree matching every pinned input (see materialise) and sets up
// the replay's packages and logs directories. A mismatch is a
// *MismatchError; a pinned commit that cannot be checked out wraps
// ErrCommitMissing. s holds the plan's build base (the replay works
// under it and runs in it).
func Prepare(ctx context.Context, s *execute.Session, src *Source, o Options) (*Prepared, error) {
	p := src.Plan
	if b := filepath.Clean(p.Settings.BuildBase); b != s.BuildBase() {
		return nil, fmt.Errorf("replay: the plan builds in %s, the session holds %s", b, s.BuildBase())
	}
	if o.Records == "" {
		o.Records = p.Settings.Records
	}
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
	orig := map[string]Original{}
	var sde map[string]string
	if _, err := os.Stat(o.Records); err == nil {
		db, err := record.Open(o.Records, record.Options{ReadOnly: true, Timeout: 10 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("records %s: %w", o.Records, err)
		}
		orig, err = Originals(db, src)
		if err == nil {
			sde, err = originalEpochs(db, orig)
		}
		db.Close()
		if err != nil {
			return nil, err
		}
	}
	var err error
	dir := filepath.Join(p.Settings.BuildBase, "replay", src.Key())
	pr := &Prepared{Source: src, Dir: dir, Originals: orig, o: o, s: s, sde: sde,
		PackagesDir: o.PackagesDir, LogsDir: filepath.Join(dir, "logs")}
	if pr.PackagesDir == "" {
		pr.PackagesDir = filepath.Join(dir, "packages")
	}
	if pr.PackagesDir, err = filepath.Abs(pr.PackagesDir); err != nil {
		return nil, err
	}
	if err := checkOutside(pr.PackagesDir, p.Settings.PackagesDir); err != nil {
		return nil, err
	}
	if pr.tree, err = materialise(ctx, p, filepath.Join(dir, "ports")); err != nil {
		return nil, err
	}
	pr.Tree = pr.tree.How
	for _, d := range []string{pr.PackagesDir, pr.LogsDir} {
		if err := freshDir(d); err != nil {
			pr.Close()
			return nil, err
		}
	}
	pr.plan = replayPlan(p, pr.tree.Dir, pr.PackagesDir, pr.LogsDir)
	return pr, nil
}

// checkOutside refuses a replay packages directory that is, contains or
// lies in the live packages_dir.
func checkOutside(dir, live string) error {
	if live == "" {
		return nil
	}
	a, b := realPath(dir), realPath(live)
	if within(a, b) || within(b, a) {
		return fmt.Errorf("replay packages directory %s overlaps packages_dir %s: a replay never writes the live repository", dir, live)
	}
	return nil
}

// realPath resolves symbolic links of the longest existing prefix of p.
func realPath(p string) string {
	p = filepath.Clean(p)
	rest := ""
	for q := p; ; q = filepath.Dir(q) {
		if r, err := filepath.EvalSymlinks(q); err == nil {
			return filepath.Join(r, rest)
		}
		if q == filepath.Dir(q) {
			return p
		}
		rest = filepath.Join(filepath.Base(q), rest)
	}
}

func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// freshDir makes d an empty directory carrying the replay marker. An
// existing directory is emptied only when an earlier replay made it.
func freshDir(d string) error {
	ents, err := os.ReadDir(d)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("replay directory: %w", err)
	case len(ents) == 0:
	default:
		if _, err := os.Stat(filepath.Join(d, markerFile)); err != nil {
			return fmt.Errorf("replay directory %s is not empty and was not made by dsynth replay: choose another one", d)
		}
		for _, e := range ents {
			if err := os.RemoveAll(filepath.Join(d, e.Name())); err != nil {
				return fmt.Errorf("empty replay directory: %w", err)
			}
		}
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("replay directory: %w", err)
	}
	return os.WriteFile(filepath.Join(d, markerFile), []byte("made by dsynth replay; emptied by the next replay into it\n"), 0o644)
}

// replayPlan is the plan a replay applies: p with the replay's tree,
// packages and logs directories, and every up-to-date port built.
func replayPlan(p *plan.Plan, treeDir, pkgs, logs string) *plan.Plan {
	c := withTree(p, treeDir)
	c.Settings.PackagesDir = pkgs
	c.Settings.LogsDir = logs
	c.Ports = append([]plan.Node(nil), p.Ports...)
	for i := range c.Ports {
		if c.Ports[i].Action == plan.ActionSkip {
			c.Ports[i].Action, c.Ports[i].Reason = plan.ActionBuild, "replay"
		}
	}
	return c
}

// Builds is the number of ports the replay builds.
func (pr *Prepared) Builds() int {
	n := 0
	for i := range pr.plan.Ports {
		if pr.plan.Ports[i].Action == plan.ActionBuild {
			n++
		}
	}
	return n
}

// Close removes the temporary worktree, if any.
func (pr *Prepared) Close() error { return pr.tree.close() }

// Run builds the replay and compares every package with the original.
// It runs in the session given to Prepare. An error means the replay could
// not run; built, differing or failed ports are in the Report.
func (pr *Prepared) Run(ctx context.Context) (*Report, error) {
	p := pr.plan
	iso := pr.o.Isolator
	if iso == nil {
		iso = execute.SlotIsolator(execute.SlotLayout(p))
	}
	// The run keeps the plan it applied (the replay's folders, every port
	// built), linked to the original by ReplayOf.
	f, err := planfile.Encode(p)
	if err != nil {
		return nil, err
	}
	sum, err := pr.s.Apply(ctx, execute.Options{Plan: f,
		Workers: pr.o.Workers, Isolator: iso, Records: pr.o.Records, Observers: pr.o.Observers,
		Warn: pr.o.Warn, ReplayOf: pr.Source.link(), PackagesDir: pr.PackagesDir,
		SourceDateEpoch: pr.sde})
	if err != nil {
		return nil, err
	}
	db, err := record.Open(pr.o.Records, record.Options{ReadOnly: true, Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	atts, err := db.RunAttempts(sum.RunID)
	db.Close()
	if err != nil {
		return nil, err
	}
	rep := pr.report(atts)
	rep.ReplayRun, rep.Status = sum.RunID, sum.Status
	return rep, nil
}

// report compares the replay's attempts with the originals.
func (pr *Prepared) report(atts []*record.Attempt) *Report {
	src := pr.Source
	rep := &Report{Original: src.link(), PlanDigest: src.Plan.Digest, Tree: pr.Tree,
		Commit: src.Plan.Tree.GitCommit, PackagesDir: pr.PackagesDir}
	if src.Run != nil {
		rep.OriginalRun = src.Run.ID
	}
	byNode := map[string]*record.Attempt{}
	for _, a := range atts {
		byNode[a.NodeID] = a
	}
	for i := range pr.plan.Ports {
		n := &pr.plan.Ports[i]
		o := pr.Originals[n.ID]
		r := PortResult{Node: n.ID, Version: n.Version, PkgFile: n.PkgFile,
			OriginalSHA256: o.SHA256, OriginalRun: o.RunID, OriginalStatus: o.Status}
		a := byNode[n.ID]
		if a != nil {
			r.ReplaySHA256 = a.SHA256
		}
		switch {
		case n.Action == plan.ActionIgnored || n.Action == plan.ActionSkipped || n.Action == plan.ActionFailed:
			r.Verdict, r.Note = VerdictNotPlanned, n.Reason
			if n.Ignore != "" {
				r.Note = "ignored: " + n.Ignore
			}
		case a == nil || a.Status == record.AttemptInterrupted || a.Status == record.AttemptBuilding:
			r.Verdict, r.Note = VerdictFailed, "not built: the replay was interrupted"
		case a.Status == record.AttemptFailed:
			r.Verdict, r.Note = VerdictFailed, a.Error
		case a.Status == record.AttemptSkipped:
			r.Verdict, r.Note = VerdictSkipped, a.Error
		case n.Meta || n.PkgFile == "":
			r.Verdict = VerdictNoPackage
		case o.SHA256 == "":
			r.Verdict = VerdictNotBuilt
			if o.Status != "" {
				r.Note = "originally " + o.Status
			}
		case o.SHA256 == a.SHA256:
			r.Verdict = VerdictReproduced
		default:
			r.Verdict = VerdictDiffers
			pr.explain(&r, o)
		}
		rep.Ports = append(rep.Ports, r)
	}
	rep.count()
	return rep
}

// explain adds the differing archive members of r when the original
// package is still where it was built (packages_dir, or the packages
// directory of a replayed replay).
func (pr *Prepared) explain(r *PortResult, o Original) {
	dir := pr.Source.Plan.Settings.PackagesDir
	if run := pr.Source.Run; run != nil && run.PackagesDir != "" && o.RunID == run.ID {
		dir = run.PackagesDir
	}
	orig := filepath.Join(dir, "All", o.PkgFile)
	if sum, _, err := execute.FileSHA256(orig); err != nil || sum != o.SHA256 {
		r.Note = "the original package is no longer in packages_dir: hashes only"
		return
	}
	d, err := CompareArchives(orig, filepath.Join(pr.PackagesDir, "All", r.PkgFile))
	r.Differences = d
	if err != nil {
		r.Note = "comparing the archives: " + err.Error()
	}
}

// SetObservers sets the observers of the replay's events (progress).
func (pr *Prepared) SetObservers(obs ...execute.Observer) { pr.o.Observers = obs }
