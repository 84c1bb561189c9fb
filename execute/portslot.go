package execute

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/plan"
)

// PortSlot is one port of a plan in its own slot, prepared as Apply's
// builder prepares it (ports-mgmt/pkg extracted, the dependencies of every
// build kind installed with pkg-static, the test dependencies too when the
// plan's profile enables tests), for callers that run their own steps
// outside Apply: execute/testport runs the phases and its checks. The
// caller holds the build-base lock; nothing is recorded.
type PortSlot struct {
	Node *plan.Node
	// Env is the worker environment, MakeArgs the make command up to the
	// target ("bmake -C /xports/<origin> [FLAVOR=f]").
	Env      []string
	MakeArgs []string
	// Output is the host folder that is the slot's output folder: the
	// package phase writes Output/All/<pkgfile>.
	Output string
	// DepsInstalled are the dependency package files installed.
	DepsInstalled []string

	b    *builder
	n    int
	slot Slot
	log  *syncWriter
	torn bool
}

// SlotOutput is the slot's output folder (its PACKAGES) as seen inside.
const SlotOutput = slotOutput

// OpenPortSlot prepares slot number slotN (1-based) for node id of p and
// installs its dependencies, writing what it does to log. On error the
// slot is already torn down.
func OpenPortSlot(ctx context.Context, p *plan.Plan, iso Isolator, id string, slotN int, log io.Writer) (*PortSlot, error) {
	b := newBuilder(p, iso, nil)
	n := b.nodes[id]
	if n == nil {
		return nil, fmt.Errorf("%s is not in the plan", id)
	}
	if err := hostDirs(&p.Settings); err != nil {
		return nil, err
	}
	s := &PortSlot{Node: n, b: b, n: slotN, log: &syncWriter{w: log}}
	s.Env = b.env(n)
	s.MakeArgs = append([]string{b.makeCommand(), "-C", slotPorts + "/" + n.Origin}, n.MakeArgs()...)
	s.Logf("origin:    %s\nnode:      %s\nversion:   %s\npkgfile:   %s\ninput key: %s\nslot:      SL%02d\nmake:      %s <target>\nenvironment:\n",
		n.Origin, n.ID, n.Version, n.PkgFile, n.InputKey, slotN, strings.Join(s.MakeArgs, " "))
	for _, e := range s.Env {
		s.Logf("  %s\n", e)
	}
	s.Output = filepath.Join(b.pkgsDir, stagingDir, isolate.SlotName(slotN))
	if err := os.RemoveAll(s.Output); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(s.Output, "All"), 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	t0 := time.Now()
	slot, err := iso.Prepare(ctx, slotN, s.Output)
	if err != nil {
		os.RemoveAll(s.Output)
		return nil, fmt.Errorf("prepare slot SL%02d: %w", slotN, err)
	}
	s.slot = slot
	s.Logf("slot:      SL%02d prepared in %s\n", slotN, time.Since(t0).Round(time.Millisecond))
	var res PortResult
	res.Env = s.Env
	if phase, msg := b.installDeps(ctx, slotN-1, slot, s.log, n, &res); msg != "" {
		s.Teardown()
		return nil, fmt.Errorf("%s: %s", phase, msg)
	}
	s.DepsInstalled = res.DepsInstalled
	return s, nil
}

// Logf writes to the port's log.
func (s *PortSlot) Logf(format string, a ...any) { s.log.printf(format, a...) }

// Make runs make target in the slot under the phase timeout and the
// target's no-output watchdog; the output goes to the log and to out
// (may be nil).
func (s *PortSlot) Make(ctx context.Context, target string, out io.Writer) (int, error) {
	argv := append(append([]string(nil), s.MakeArgs...), target)
	return s.run(ctx, argv, target, target, out)
}

// Run runs argv in the slot (what names it in errors) as Make does.
func (s *PortSlot) Run(ctx context.Context, argv []string, what string, out io.Writer) (int, error) {
	return s.run(ctx, argv, "", what, out)
}

func (s *PortSlot) run(ctx context.Context, argv []string, phase, what string, out io.Writer) (int, error) {
	log := s.log
	if out != nil {
		log = &syncWriter{w: io.MultiWriter(s.log, out)}
	}
	net := s.b.p.Settings.Environment.Network
	network := net == plan.NetworkAll || (net == plan.NetworkFetch && fetchPhases[phase])
	return s.b.runCmd(ctx, s.slot, log, argv, s.Env, network, phase, what)
}

// Var is the value of make variable name for the port in the slot.
func (s *PortSlot) Var(ctx context.Context, name string) (string, error) {
	var out, errb bytes.Buffer
	argv := append(append([]string(nil), s.MakeArgs...), "-V", "${"+name+"}")
	st, err := s.slot.Run(ctx, isolate.Cmd{Argv: argv, Env: s.Env, Dir: "/", Stdout: &out, Stderr: &errb})
	if err == nil && st != 0 {
		err = fmt.Errorf("make -V %s: exit status %d: %s", name, st, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), err
}

// Shell runs argv attached to the given standard streams, in dir, with
// the build environment: no watchdog, no log (an interactive shell).
func (s *PortSlot) Shell(ctx context.Context, argv []string, dir string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	return s.slot.Run(ctx, isolate.Cmd{Argv: argv, Env: s.Env, Dir: dir, Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Nice: s.b.p.Settings.Workers.Nice})
}

// Teardown ends the slot and removes its output folder (the package
// built in it is not kept). It may be called more than once.
func (s *PortSlot) Teardown() error {
	if s.torn {
		return nil
	}
	s.torn = true
	err := s.slot.Teardown()
	if err != nil {
		s.Logf("\nteardown slot SL%02d: %v\n", s.n, err)
		err = fmt.Errorf("isolation: tear down slot SL%02d: %w", s.n, err)
	}
	if rerr := os.RemoveAll(s.Output); rerr != nil && err == nil {
		err = rerr
	}
	return err
}
