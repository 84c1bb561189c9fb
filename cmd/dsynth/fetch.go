package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/execute/distfiles"
	"github.com/go-dsynth/dsynth/plan"
)

func init() {
	register(&command{
		name:     "fetch",
		synopsis: "Download the distfiles a plan needs, in networked slots, so that apply can run without network",
		usage:    "dsynth fetch [-workers N] PLANFILE\n       dsynth fetch [-workers N] [-profile NAME] [-var K=V]... [-var-file F]... PROFILE.hcl",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var pf profileFlags
			pf.register(fs)
			workers := fs.Int("workers", 0, "number of ports fetched at once (default: the profile's workers.count)")
			return func(args []string) error {
				arg, err := oneArg(args, "a plan file or a profile file")
				if err != nil {
					return err
				}
				if err := checkWorkers(*workers); err != nil {
					return err
				}
				return runFetch(arg, &pf, *workers)
			}
		},
	})
}

// loadPlanArg reads a plan file, or plans a profile file (every target
// planned: -keep-going), for the commands that take either.
func loadPlanArg(ctx context.Context, arg string, pf *profileFlags) (*plan.Plan, error) {
	f, l, err := readPlanOrProfile(arg, pf)
	if err != nil {
		return nil, err
	}
	if f != nil {
		return f.Plan(), nil
	}
	p, err := makePlan(ctx, l, true)
	if err != nil && p == nil {
		return nil, err
	}
	return p, nil
}

// runFetch fetches the distfiles of a plan with the build-base lock held,
// prints the failed ports with their reasons and records the operation:
// exit 0 when every port was fetched, 3 when some failed, 1 on error.
func runFetch(arg string, pf *profileFlags, workers int) error {
	ctx, stop := interruptContext()
	defer stop()
	p, err := loadPlanArg(ctx, arg, pf)
	if err != nil {
		return err
	}
	prof := &p.Settings
	sess, err := execute.Open(prof.BuildBase, lockWarn)
	if err != nil {
		return fmt.Errorf("refusing to fetch: %w", err)
	}
	defer sess.Close()

	tty := term.IsTerminal(int(os.Stdout.Fd())) && stdout == io.Writer(os.Stdout)
	prog := distfiles.NewProgress(stdout, tty)
	start := time.Now()
	res, ferr := distfiles.Fetch(ctx, distfiles.Options{
		Plan: p, Workers: workers,
		Isolator: execute.SlotIsolator(execute.SlotLayout(p)),
		Observe:  prog.Observe,
	})
	if res != nil {
		for _, c := range res.Cleaned {
			fmt.Fprintf(stderr, "dsynth: cleaned a crashed run's %s\n", c)
		}
		distfiles.PrintResult(stdout, res)
		fmt.Fprintf(stdout, "Distfiles: %s   Logs: %s\n", prof.DistfilesDir, prof.LogsDir+"/fetch")
	}
	if err := distfiles.Record(prof.Records, distfiles.FetchOperation(prof.Name, start, res, ferr)); err != nil {
		fmt.Fprintf(stderr, "dsynth: warning: %v\n", err)
	} else {
		rememberRecords(prof.Records)
	}
	switch {
	case ferr != nil:
		return ferr
	case res.Count(distfiles.Failed) > 0:
		return withCode(exitFailed, nil)
	}
	return nil
}
