package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/execute/replay"
	"github.com/go-dsynth/dsynth/plan/planfile"
)

func init() {
	register(&command{
		name:     "replay",
		synopsis: "Rebuild an old plan or run and report which packages reproduced bit-for-bit",
		usage:    "dsynth replay [-auto-approve] [-workers N] [-packages-dir DIR] [-json] [-records FILE | -profile-file PROFILE.hcl] PLANFILE|RUN_ID",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var rf recordsFlags
			rf.register(fs)
			o := replayCmdOptions{}
			fs.BoolVar(&o.autoApprove, "auto-approve", false, "build without asking for confirmation")
			fs.IntVar(&o.workers, "workers", 0, "number of parallel builders (default: the plan's workers.count)")
			fs.StringVar(&o.packagesDir, "packages-dir", "", "write the replay's packages to `DIR` (default <build_base>/replay/<run-id>/packages)")
			fs.BoolVar(&o.json, "json", false, "print the report as JSON (progress goes to stderr)")
			return func(args []string) error {
				arg, err := oneArg(args, "a plan file or a run ID")
				if err != nil {
					return err
				}
				return runReplay(arg, &rf, o)
			}
		},
	})
}

type replayCmdOptions struct {
	autoApprove bool
	workers     int
	packagesDir string
	json        bool
}

func runReplay(arg string, rf *recordsFlags, o replayCmdOptions) error {
	if err := checkWorkers(o.workers); err != nil {
		return err
	}
	ctx, stop := interruptContext()
	defer stop()

	var src *replay.Source
	var records string
	// An existing file is meant as a plan file, not a run ID: reading it
	// says what it lacks ("not a dsynth plan file").
	if st, err := os.Stat(arg); planfile.IsPlanFile(arg) || (err == nil && st.Mode().IsRegular()) {
		var err error
		if src, err = replay.FromPlanFile(arg); err != nil {
			return err
		}
		records = src.Plan.Settings.Records
		if rf.records != "" || rf.profile != "" {
			if records, err = rf.path(); err != nil {
				return err
			}
		}
	} else {
		var err error
		if records, err = rf.path(); err != nil {
			return err
		}
		db, err := openRecords(records, true)
		if err != nil {
			return err
		}
		src, err = replay.FromRun(db, arg)
		db.Close()
		if err != nil {
			return err
		}
	}
	p := src.Plan

	sess, err := execute.Open(p.Settings.BuildBase, lockWarn)
	if err != nil {
		return err
	}
	defer sess.Close()

	msgs := stdout
	if o.json {
		msgs = stderr
	}
	warn := func(s string) { fmt.Fprintf(stderr, "dsynth: warning: %s\n", s) }
	pr, err := replay.Prepare(ctx, sess, src, replay.Options{Records: records, PackagesDir: o.packagesDir,
		Workers: o.workers, Warn: warn})
	if err != nil {
		return err
	}
	defer func() {
		if err := pr.Close(); err != nil {
			warn(err.Error())
		}
	}()
	fmt.Fprintf(msgs, "Replay of %s (plan %.12s)\n  tree:     %s (every pinned input verified)\n  packages: %s\n  logs:     %s\n",
		src.Label, p.Digest, pr.Tree, pr.PackagesDir, pr.LogsDir)
	if p.Tree.GitDirty {
		fmt.Fprintf(msgs, "  note:     the plan was made from a dirty checkout; the pinned hashes and input keys vouch for the tree\n")
	}
	if !o.autoApprove {
		fmt.Fprintf(msgs, "\nDo you want to rebuild %s?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", portsPhrase(pr.Builds()))
		line, _ := bufio.NewReader(stdin).ReadString('\n')
		if strings.TrimSpace(line) != "yes" {
			fmt.Fprintln(msgs, "\nReplay cancelled.")
			return withCode(exitError, nil)
		}
	}

	tty := !o.json && term.IsTerminal(int(os.Stdout.Fd())) && stdout == io.Writer(os.Stdout)
	prog := execute.NewProgress(msgs, tty)
	pr.SetObservers(prog.Observe)
	rep, err := pr.Run(ctx)
	if err != nil {
		return err
	}
	if o.json {
		err = replay.RenderJSON(stdout, rep)
	} else {
		fmt.Fprintln(stdout)
		err = replay.RenderHuman(stdout, rep)
	}
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return withCode(exitError, fmt.Errorf("interrupted: the report above is partial"))
	}
	if rep.ExitCode != 0 {
		return withCode(rep.ExitCode, nil)
	}
	return nil
}
