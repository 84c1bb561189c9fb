package execute

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/isolate/lock"
	"github.com/go-dsynth/dsynth/record"
)

// A Session holds a build base for one workflow of a front end: Open
// takes the build base's lock (one run, repository build, fetch or clean
// at a time; a dead holder's lock is taken over), Close releases it.
// Every front end that writes to a build base (the CLI's apply, test,
// replay, fetch, repo, pkgclean, purge-distfiles and cleanup; serve's
// builds and repository builds) opens one, and applies through
// Session.Apply, which recovers crashed runs, cleans leftover slots and
// runs the plan: they follow one rule and differ only in how they render.
type Session struct {
	base    string
	release func() error
}

// Open takes buildBase's lock. It fails with a *lock.HeldError naming the
// live holder; warn (may be nil) hears of a dead holder's lock taken over.
func Open(buildBase string, warn func(string)) (*Session, error) {
	if buildBase == "" {
		return nil, errors.New("build base: not set")
	}
	release, err := lock.TryLock(filepath.Clean(buildBase), warn)
	if err != nil {
		return nil, err
	}
	return &Session{base: filepath.Clean(buildBase), release: release}, nil
}

// BuildBase is the build base the session holds.
func (s *Session) BuildBase() string { return s.base }

// Close releases the build base. It may be called more than once.
func (s *Session) Close() error {
	if s.release == nil {
		return nil
	}
	err := s.release()
	s.release = nil
	return err
}

// Apply builds o.Plan on the session's build base: crash recovery and
// slot cleanup first, then the run (see Options). It refuses a plan of
// another build base. It returns an error only when the run could not
// happen (stale plan, records, isolation); failed ports are in the
// Summary. When ctx ends, running builds are killed, the run is recorded
// as interrupted and the summary says so.
func (s *Session) Apply(ctx context.Context, o Options) (*Summary, error) {
	if s.release == nil {
		return nil, errors.New("apply: the session is closed")
	}
	if o.Plan == nil {
		return nil, errors.New("apply: no plan")
	}
	if b := filepath.Clean(o.Plan.Plan().Settings.BuildBase); b != s.base {
		return nil, fmt.Errorf("apply: the plan builds in %s, the session holds %s", b, s.base)
	}
	return apply(ctx, o)
}

// Recovery is what recovering a build base found and did.
type Recovery struct {
	// Crashed are the runs whose process died, now recorded as crashed.
	Crashed []*record.Run
	// Cleaned are the leftover slots removed.
	Cleaned []string
}

// Recover is the crash recovery of a front end that does not hold the
// build base (status, serve's database clean): runs of buildBase left
// running by dead processes are recorded as crashed and, when no live
// process holds the build base, the slots they left are removed (a
// Session's Apply does both before every run). On a full disk the
// Recovery is returned with an error wrapping ErrNotRecorded.
func Recover(records, buildBase string) (*Recovery, error) {
	return recoverBase(records, buildBase, false, func() ([]string, error) { return isolate.Cleanup(buildBase) })
}

// recoverBase records the dead runs of buildBase as crashed and removes
// leftover slots with cleanup: when held (the caller holds the build
// base) or when no live process does, and only when there is something
// to clean (a crashed run, or held).
func recoverBase(records, buildBase string, held bool, cleanup func() ([]string, error)) (*Recovery, error) {
	rec := &Recovery{}
	crashed, err := recoverCrashed(records, buildBase)
	rec.Crashed = crashed
	if err != nil && !errors.Is(err, ErrNotRecorded) {
		return nil, err
	}
	unrecorded := err
	clean := held
	if !held && len(crashed) > 0 {
		_, live, herr := lock.Holder(buildBase)
		clean = herr == nil && !live
	}
	if _, serr := os.Stat(buildBase); clean && (held || serr == nil) {
		cl, cerr := cleanup()
		if cerr != nil {
			return nil, fmt.Errorf("clean build base %s: %w", buildBase, cerr)
		}
		rec.Cleaned = cl
	}
	return rec, unrecorded
}
