package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/execute/testport"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/record"
)

// testStdin is the terminal of `dsynth test -i`; tests may replace it.
var testStdin = os.Stdin

func init() {
	register(&command{
		name:     "test",
		synopsis: "Build one port with its test target, check-plist, stage QA and a leftovers check (poudriere testport)",
		usage:    "dsynth test [-i] [-profile NAME] [-var K=V]... [-var-file F]... PROFILE.hcl ORIGIN[@FLAVOR]",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var pf profileFlags
			pf.register(fs)
			interactive := fs.Bool("i", false, "on failure, keep the slot and open an interactive shell in it (needs a terminal)")
			return func(args []string) error {
				if len(args) != 2 {
					return fmt.Errorf("expected two arguments, the profile file and the port's origin (flags go before them)")
				}
				return runTest(args[0], args[1], &pf, *interactive)
			}
		},
	})
}

func runTest(profPath, origin string, pf *profileFlags, interactive bool) error {
	if interactive && !term.IsTerminal(int(testStdin.Fd())) {
		fmt.Fprintln(stderr, "dsynth test: -i needs a terminal on standard input: testing without it")
		interactive = false
	}
	if err := notPlanNorProfile(profPath); err != nil {
		return err
	}
	l, err := pf.load(profPath)
	if err != nil {
		return err
	}
	ctx, stop := interruptContext()
	defer stop()

	// The port alone, tests enabled (its TEST_DEPENDS are planned).
	lt := *l
	lt.Profile.Targets = []string{origin}
	lt.Profile.Tests = true
	p, err := makePlan(ctx, &lt, false)
	if err != nil {
		return err
	}
	id, err := testNode(p, origin)
	if err != nil {
		return err
	}
	prof := &p.Settings
	sess, err := execute.Open(prof.BuildBase, lockWarn)
	if err != nil {
		return err
	}
	defer sess.Close()
	rememberRecords(prof.Records)

	// Its dependencies, by a normal apply of the profile (recorded,
	// reused, published).
	if deps := testport.DepTargets(p, id); len(deps) > 0 {
		ld := *l
		ld.Profile.Targets = deps
		dp, err := makePlan(ctx, &ld, false)
		if err != nil {
			return fmt.Errorf("planning the dependencies of %s: %w", id, err)
		}
		if s := plan.Summarize(dp); s.Build > 0 {
			fmt.Fprintf(stdout, "Building the dependencies of %s:\n", id)
			if err := plan.RenderChanges(stdout, dp); err != nil {
				return err
			}
			if err := applyDeps(ctx, sess, dp); err != nil {
				return err
			}
		} else if s.Failed+s.Ignored+s.Skipped > 0 {
			plan.RenderChanges(stdout, dp)
			return withCode(exitFailed, fmt.Errorf("dependencies of %s cannot be built", id))
		}
	}

	o := testport.Options{Plan: p, Node: id, Isolator: execute.SlotIsolator(execute.SlotLayout(p)), Out: stdout}
	if interactive {
		o.Shell = &testport.Shell{Stdin: testStdin, Stdout: os.Stdout, Stderr: os.Stderr}
	}
	res, err := testport.Run(ctx, o)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return withCode(exitError, errors.New("interrupted"))
		}
		return err
	}
	fmt.Fprintf(stdout, "%s: %s\nLog: %s\n", id, testport.Verdict(res), res.LogPath)
	if len(res.Failed()) > 0 {
		return withCode(exitFailed, nil)
	}
	return nil
}

// testNode is the node of origin[@flavor] in p: the node with that ID,
// else the one of that origin no other node depends on.
func testNode(p *plan.Plan, origin string) (string, error) {
	if n := p.Node(origin); n != nil {
		return n.ID, nil
	}
	needed := map[string]bool{}
	for _, n := range p.Ports {
		for _, ds := range n.Deps {
			for _, d := range ds {
				needed[d] = true
			}
		}
	}
	var found []string
	for _, n := range p.Ports {
		if n.Origin == origin && !needed[n.ID] {
			found = append(found, n.ID)
		}
	}
	if len(found) == 0 {
		return "", fmt.Errorf("%s is not in the plan", origin)
	}
	return found[0], nil
}

// applyDeps applies plan dp in sess as `apply -auto-approve` does.
func applyDeps(ctx context.Context, sess *execute.Session, dp *plan.Plan) error {
	f, err := planfile.Encode(dp)
	if err != nil {
		return err
	}
	db, err := openRecords(dp.Settings.Records, false)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if db != nil {
		db.Close()
	}
	tty := term.IsTerminal(int(os.Stdout.Fd())) && stdout == io.Writer(os.Stdout)
	prog := execute.NewProgress(stdout, tty)
	sum, err := sess.Apply(ctx, execute.Options{
		Plan:      f,
		Isolator:  execute.SlotIsolator(execute.SlotLayout(dp)),
		Publisher: execute.PlanPublisher(dp),
		Observers: []execute.Observer{prog.Observe},
		Warn:      func(s string) { fmt.Fprintf(stderr, "dsynth: warning: %s\n", s) },
	})
	if sum != nil {
		execute.PrintSummary(stdout, sum)
	}
	switch {
	case err != nil:
		return err
	case sum.Status == record.RunInterrupted:
		return withCode(exitError, errors.New("interrupted"))
	case !sum.Complete():
		return withCode(exitFailed, errors.New("some dependencies failed to build: nothing to test"))
	}
	fmt.Fprintln(stdout)
	return nil
}
