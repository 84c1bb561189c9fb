package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/record"
	"github.com/go-dsynth/dsynth/spec"
)

// stdin is read for the confirmation of `apply PROFILE.hcl`.
var stdin io.Reader = os.Stdin

func init() {
	register(&command{
		name:     "apply",
		synopsis: "Build a saved plan (or plan a profile, confirm and build it)",
		usage:    "dsynth apply [-auto-approve] [-workers N] [-executor local|temporal] PLANFILE\n       dsynth apply [-auto-approve] [-keep-going] [-workers N] [-executor local|temporal] [-profile NAME] [-var K=V]... [-var-file F]... PROFILE.hcl",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var pf profileFlags
			pf.register(fs)
			autoApprove := fs.Bool("auto-approve", false, "build without asking for confirmation (PROFILE.hcl form)")
			workers := fs.Int("workers", 0, "number of parallel builders (default: the profile's workers.count)")
			keepGoing := fs.Bool("keep-going", false, "build the rest when an explicit target failed to plan (PROFILE.hcl form)")
			executor := fs.String("executor", "local", "where the ports build: `local` (this host's slots) or temporal (the build farm of the profile's executor block)")
			return func(args []string) error {
				if *executor != "local" && *executor != spec.ExecutorTemporal {
					return fmt.Errorf("-executor %q: local or temporal", *executor)
				}
				arg, err := oneArg(args, "a plan file or a profile file")
				if err != nil {
					return err
				}
				if err := checkWorkers(*workers); err != nil {
					return err
				}
				return runApply(arg, &pf, *autoApprove, *keepGoing, *workers, *executor)
			}
		},
	})
}

func runApply(arg string, pf *profileFlags, autoApprove, keepGoing bool, workers int, executor string) error {
	ctx, stop := interruptContext()
	defer stop()

	f, l, err := readPlanOrProfile(arg, pf)
	if err != nil {
		return err
	}
	if f == nil {
		p, err := makePlan(ctx, l, keepGoing)
		if err != nil {
			if p != nil {
				plan.RenderChanges(stdout, p)
				fmt.Fprintln(stdout)
				return fmt.Errorf("%w\n(targets cannot be built; -keep-going builds the rest)", err)
			}
			return err
		}
		if err := plan.RenderChanges(stdout, p); err != nil {
			return err
		}
		if f, err = planfile.Encode(p); err != nil {
			return err
		}
		if s := plan.Summarize(p); s.Build > 0 && !autoApprove {
			fmt.Fprintf(stdout, "\nDo you want to build %s?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", portsPhrase(s.Build))
			line, _ := bufio.NewReader(stdin).ReadString('\n')
			if strings.TrimSpace(line) != "yes" {
				fmt.Fprintln(stdout, "\nApply cancelled.")
				return withCode(exitError, nil)
			}
		}
	}
	p := f.Plan()
	prof := &p.Settings
	if s := plan.Summarize(p); s.Build == 0 {
		fmt.Fprintf(stdout, "\nNothing to build: %d ports up to date, %d failed, %d ignored, %d skipped.\n", s.UpToDate, s.Failed, s.Ignored, s.Skipped)
		if s.Failed+s.Ignored+s.Skipped > 0 {
			return withCode(exitFailed, nil)
		}
		return nil
	}

	sess, err := execute.Open(prof.BuildBase, lockWarn)
	if err != nil {
		return err
	}
	defer sess.Close()
	// A records file that cannot be opened stops the run before anything
	// is built (and says so clearly).
	db, err := openRecords(prof.Records, false)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if db != nil {
		db.Close()
	}
	rememberRecords(prof.Records)

	var exec execute.PortExecutor
	if executor == spec.ExecutorTemporal {
		ex, stop, err := startFarm(ctx, p)
		if err != nil {
			return err
		}
		defer stop()
		exec = ex
	}
	tty := term.IsTerminal(int(os.Stdout.Fd())) && stdout == io.Writer(os.Stdout)
	prog := execute.NewProgress(stdout, tty)
	sum, err := sess.Apply(ctx, execute.Options{
		Plan: f, Workers: workers, Executor: exec,
		Isolator:  execute.SlotIsolator(execute.SlotLayout(p)),
		Verify:    execute.VerifyPlan,
		Publisher: execute.PlanPublisher(p),
		Observers: []execute.Observer{prog.Observe},
		Warn:      func(s string) { fmt.Fprintf(stderr, "dsynth: warning: %s\n", s) },
	})
	if err != nil {
		var se *execute.StaleError
		if errors.As(err, &se) {
			return withCode(exitError, err)
		}
		if sum == nil {
			return err
		}
	}
	execute.PrintSummary(stdout, sum)
	if sum.CCache != "" {
		fmt.Fprintln(stdout, sum.CCache)
	}
	fmt.Fprintf(stdout, "Logs: %s   Show: dsynth show %s\n", prof.LogsDir, short(sum.RunID))
	switch {
	case err != nil:
		return err
	case sum.Status == record.RunInterrupted:
		return withCode(exitError, errors.New("interrupted: re-run the same apply to resume"))
	case !sum.Complete():
		return withCode(exitFailed, nil)
	case sum.RepositoryErr != nil:
		return withCode(exitError, errors.New("the packages were built, but the repository was not published (see above); `dsynth repo` retries"))
	}
	return nil
}

// makePlan plans a loaded profile (the `apply PROFILE.hcl` form).
func makePlan(ctx context.Context, l *spec.Loaded, keepGoing bool) (*plan.Plan, error) {
	db, err := loadSnapshot(l.Profile.Records)
	if err != nil {
		return nil, err
	}
	defer plan.CloseStore(db)
	start := time.Now()
	p, st, err := plan.Create(ctx, plan.Options{Profile: l.Profile, ProfileSource: l.Source, DB: db, DsynthVersion: Version, KeepGoing: keepGoing})
	printScanStats(st, time.Since(start))
	return p, err
}

// checkWorkers refuses a negative -workers (0 means the profile's count).
func checkWorkers(n int) error {
	if n < 0 {
		return fmt.Errorf("-workers %d: give a positive number of builders (or 0 for the profile's)", n)
	}
	return nil
}

// interruptContext returns a context that the first SIGINT or SIGTERM
// cancels (the builds stop, the slots are torn down, the run is recorded
// interrupted); a second one exits at once with status 130. The records
// stay consistent either way (every write is one bbolt transaction); after
// an exit at once, the next apply or status marks the run crashed and
// cleans its slots.
func interruptContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		n := 0
		for range sigs {
			n++
			if n == 1 {
				fmt.Fprintln(stderr, "\ndsynth: interrupted: stopping the builds and tearing down the slots (press Ctrl-C again to exit at once)")
				cancel()
				continue
			}
			fmt.Fprintln(stderr, "dsynth: exiting at once")
			os.Exit(130)
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(sigs)
		cancel()
	}
}
