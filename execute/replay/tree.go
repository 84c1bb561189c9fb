package replay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-dsynth/dsynth/plan"
)

// ErrMismatch is wrapped by *MismatchError.
var ErrMismatch = errors.New("replay refused: pinned inputs differ")

// MismatchError is a refused replay: the pinned inputs that differ in the
// ports tree the replay would build from.
type MismatchError struct {
	// Tree is where the inputs were checked (the current ports tree or the
	// pinned commit's worktree).
	Tree    string
	Changes []plan.Change
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d pinned input(s) differ in %s", ErrMismatch, len(e.Changes), e.Tree)
	if ports := e.Ports(); len(ports) > 0 {
		fmt.Fprintf(&b, " (ports: %s)", strings.Join(ports, ", "))
	}
	b.WriteString(":")
	for _, c := range e.Changes {
		b.WriteString("\n  - ")
		b.WriteString(c.String())
	}
	return b.String()
}

func (e *MismatchError) Unwrap() error { return ErrMismatch }

// Ports lists the nodes with a differing input, sorted, once each.
func (e *MismatchError) Ports() []string {
	var out []string
	for _, c := range e.Changes {
		if c.Node != "" {
			out = append(out, c.Node)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ErrCommitMissing is wrapped by the error of a replay whose pinned
// commit cannot be checked out.
var ErrCommitMissing = errors.New("pinned commit is not available")

// tree is the ports tree a replay builds from.
type tree struct {
	Dir string
	// How says where it comes from: "current ports tree" or "git worktree
	// of <commit>".
	How string
	// repo and worktree are set when Dir is a temporary git worktree.
	repo, worktree string
}

// withTree returns a copy of p whose ports tree is dir.
func withTree(p *plan.Plan, dir string) *plan.Plan {
	c := *p
	c.Tree.Path = dir
	c.Settings.PortsDir = dir
	return &c
}

// verifyAt checks every pinned input of p against the tree at dir.
func verifyAt(ctx context.Context, p *plan.Plan, dir string) ([]plan.Change, error) {
	ch, err := plan.Verify(ctx, withTree(p, dir))
	if err != nil {
		return nil, err
	}
	return append(ch, plan.CheckInputKeys(p)...), nil
}

// materialise finds a ports tree matching every pinned input of p: the
// current tree when it still matches, else the pinned commit checked out
// in a git worktree at wtDir (removed first if a crashed replay left it).
func materialise(ctx context.Context, p *plan.Plan, wtDir string) (*tree, error) {
	cur := p.Tree.Path
	if _, err := os.Stat(cur); err == nil {
		ch, err := verifyAt(ctx, p, cur)
		if err != nil {
			return nil, err
		}
		if len(ch) == 0 {
			return &tree{Dir: cur, How: "current ports tree " + cur}, nil
		}
		if p.Tree.GitCommit == "" {
			return nil, &MismatchError{Tree: cur + " (the plan pins no git commit)", Changes: ch}
		}
	} else if p.Tree.GitCommit == "" {
		return nil, fmt.Errorf("ports tree %s is gone and the plan pins no git commit: %w", cur, ErrCommitMissing)
	}
	commit := p.Tree.GitCommit
	if err := git(ctx, cur, "cat-file", "-e", commit+"^{commit}"); err != nil {
		return nil, fmt.Errorf("%w: commit %s is not in the git repository at %s (fetch it first): %v",
			ErrCommitMissing, commit, cur, err)
	}
	if err := removeWorktree(ctx, cur, wtDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(wtDir), 0o755); err != nil {
		return nil, fmt.Errorf("replay worktree: %w", err)
	}
	if err := git(ctx, cur, "worktree", "add", "--detach", "--force", wtDir, commit); err != nil {
		return nil, fmt.Errorf("check out pinned commit %s: %w", commit, err)
	}
	t := &tree{Dir: wtDir, How: "git worktree of pinned commit " + commit, repo: cur, worktree: wtDir}
	ch, err := verifyAt(ctx, p, wtDir)
	if err == nil && len(ch) > 0 {
		err = &MismatchError{Tree: "pinned commit " + shortID(commit), Changes: ch}
		if p.Tree.GitDirty {
			err = fmt.Errorf("%w\n(the plan was made from a dirty checkout: its uncommitted changes are not in the commit)", err)
		}
	}
	if err != nil {
		return nil, errors.Join(err, t.close())
	}
	return t, nil
}

// close removes the temporary worktree, if any.
func (t *tree) close() error {
	if t == nil || t.worktree == "" {
		return nil
	}
	err := removeWorktree(context.Background(), t.repo, t.worktree)
	t.worktree = ""
	return err
}

// removeWorktree removes the git worktree at dir (and its registration in
// repo), if there is one.
func removeWorktree(ctx context.Context, repo, dir string) error {
	if _, err := os.Lstat(dir); err != nil {
		git(ctx, repo, "worktree", "prune")
		return nil
	}
	if err := git(ctx, repo, "worktree", "remove", "--force", "--force", dir); err != nil {
		if rerr := os.RemoveAll(dir); rerr != nil {
			return fmt.Errorf("remove replay worktree %s: %w", dir, errors.Join(err, rerr))
		}
	}
	git(ctx, repo, "worktree", "prune")
	return nil
}

func git(ctx context.Context, dir string, args ...string) error {
	out, err := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func shortID(id string) string { return id[:min(12, len(id))] }
