package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
)

func init() {
	register(&command{
		name:     "plan",
		synopsis: "Scan the ports tree and show (or save) what a build would do",
		usage:    "dsynth plan [-profile NAME] [-var K=V]... [-var-file F]... [-out FILE] [-json] [-detailed-exitcode] [-force ORIGIN]... [-force-all] [-keep-going] [-verbose] [-jobs N] PROFILE.hcl\n       dsynth plan export [-records FILE | -profile-file PROFILE.hcl] RUN_ID|last -out FILE",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var pf profileFlags
			pf.register(fs)
			out := fs.String("out", "", "write the plan to `FILE` (for dsynth apply)")
			jsonOut := fs.Bool("json", false, "print the plan as JSON instead of text")
			detailed := fs.Bool("detailed-exitcode", false, "exit 0 when nothing is to build, 1 on error, 2 when something is to build")
			var force multiFlag
			fs.Var(&force, "force", "build `ORIGIN` (or ORIGIN@FLAVOR) even when up to date (repeatable)")
			forceAll := fs.Bool("force-all", false, "build every port even when up to date")
			jobs := fs.Int("jobs", 0, "concurrent make processes while scanning (default: CPUs)")
			verbose := fs.Bool("verbose", false, "list every port, the up-to-date ones too (default: only what changes, with counts of the rest)")
			keepGoing := fs.Bool("keep-going", false, "plan (and exit 0) even when an explicit target cannot be built because it or a dependency failed to plan")
			return func(args []string) error {
				if len(args) > 0 && args[0] == "export" {
					return runPlanExport(args[1:])
				}
				path, err := oneArg(args, "the profile file")
				if err != nil {
					return err
				}
				return runPlan(path, &pf, planCmdOptions{out: *out, json: *jsonOut, detailed: *detailed,
					force: force, forceAll: *forceAll, jobs: *jobs, keepGoing: *keepGoing, verbose: *verbose})
			}
		},
	})
}

type planCmdOptions struct {
	out            string
	json, detailed bool
	force          []string
	forceAll       bool
	jobs           int
	keepGoing      bool
	verbose        bool
}

func runPlan(path string, pf *profileFlags, o planCmdOptions) error {
	l, err := pf.load(path)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	db, err := loadSnapshot(l.Profile.Records)
	if err != nil {
		return err
	}
	defer plan.CloseStore(db)
	start := time.Now()
	p, st, err := plan.Create(ctx, plan.Options{
		Profile: l.Profile, ProfileSource: l.Source, DB: db,
		Force: o.force, ForceAll: o.forceAll, Jobs: o.jobs, DsynthVersion: Version, KeepGoing: o.keepGoing,
	})
	// The snapshot's memory is not needed while the plan is rendered and
	// written.
	if cerr := plan.CloseStore(db); cerr != nil && err == nil {
		err = cerr
	}
	printScanStats(st, time.Since(start))
	if err != nil {
		if p != nil && !o.json {
			// Show what would be built; the error says what failed.
			if rerr := renderPlan(p, o.verbose); rerr != nil {
				return rerr
			}
			fmt.Fprintln(stdout)
			return fmt.Errorf("%w\n(targets cannot be built; -keep-going plans the rest)", err)
		}
		return err
	}
	// The plan file is written one node at a time, never held whole in
	// memory beside the plan (a 30,000-port plan is tens of MB).
	if o.json {
		_, err = planfile.WriteTo(stdout, p)
	} else {
		err = renderPlan(p, o.verbose)
	}
	if err != nil {
		return err
	}
	if o.out != "" {
		if _, err := planfile.WriteFile(o.out, p); err != nil {
			return err
		}
		if !o.json {
			fmt.Fprintf(stdout, "\nSaved the plan to %s. Run `dsynth apply %s` to build it.\n", o.out, o.out)
		}
	}
	if o.detailed && plan.Summarize(p).Build > 0 {
		return withCode(exitChanges, nil)
	}
	return nil
}

// printScanStats says what making a plan took (nothing when st is nil):
// make runs and cache hits, or that the last plan was reused.
func printScanStats(st *plan.Stats, d time.Duration) {
	if st == nil {
		return
	}
	fmt.Fprintf(stderr, "Scanned %d ports: %d make runs, %d from cache, in %.2fs.\n",
		st.Nodes, st.MakeRuns, st.CacheHits, d.Seconds())
	if st.NotReused != "" {
		fmt.Fprintf(stderr, "The last plan was not reused: %s.\n", st.NotReused)
	}
	if st.FromMemo > 0 {
		fmt.Fprintf(stderr, "%d ports were unchanged since the last plan: their scans were reused.\n", st.FromMemo)
	}
	if st.Reused {
		fmt.Fprintf(stderr, "Nothing the last plan was made from has changed (%d paths checked, %d read again): reused it.\n",
			st.Checked, st.Reread)
	}
}

// renderPlan prints the plan for a person: what changes (new, changed,
// failed, ignored, skipped) with a count of the rest, or every port when
// verbose.
func renderPlan(p *plan.Plan, verbose bool) error {
	if verbose {
		return plan.RenderHuman(stdout, p)
	}
	return plan.RenderChanges(stdout, p)
}
