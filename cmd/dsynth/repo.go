package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/execute/distfiles"
	"github.com/go-dsynth/dsynth/execute/publish"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

func init() {
	register(&command{
		name:     "repo",
		synopsis: "Build the package repository catalog with the tree's pkg repo, sign it and publish it at packages_dir/.latest",
		usage:    "dsynth repo [-profile NAME] [-var K=V]... [-var-file F]... PROFILE.hcl|PLANFILE",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var pf profileFlags
			pf.register(fs)
			return func(args []string) error {
				arg, err := oneArg(args, "a profile file or a plan file")
				if err != nil {
					return err
				}
				prof, p, err := profileOrPlan(arg, &pf)
				if err != nil {
					return err
				}
				ctx, stop := interruptContext()
				defer stop()
				sess, err := execute.Open(prof.BuildBase, lockWarn)
				if err != nil {
					return err
				}
				defer sess.Close()
				return runRepo(ctx, prof, p, stdout)
			}
		},
	})
	register(&command{
		name:     "pkgclean",
		synopsis: "List (or with -yes remove) the packages the ports tree no longer produces, then rebuild the repository",
		usage:    "dsynth pkgclean [-yes] [-profile NAME] [-var K=V]... [-var-file F]... PROFILE.hcl|PLANFILE",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var pf profileFlags
			pf.register(fs)
			yes := fs.Bool("yes", false, "remove the obsolete packages (default: only list them)")
			return func(args []string) error {
				arg, err := oneArg(args, "a profile file or a plan file")
				if err != nil {
					return err
				}
				return runPkgclean(arg, &pf, *yes, stdout)
			}
		},
	})
}

// profileOrPlan loads arg, a plan file or a profile; p is nil for a
// profile (no scan is made).
func profileOrPlan(arg string, pf *profileFlags) (*plan.Settings, *plan.Plan, error) {
	f, l, err := readPlanOrProfile(arg, pf)
	switch {
	case err != nil:
		return nil, nil, err
	case f != nil:
		return &f.Plan().Settings, f.Plan(), nil
	}
	s := plan.SettingsOf(l.Profile)
	return &s, nil, nil
}

// runRepo builds and publishes the repository of prof (the caller holds
// the build-base lock).
func runRepo(ctx context.Context, prof *plan.Settings, p *plan.Plan, w io.Writer) error {
	if err := os.MkdirAll(prof.LogsDir, 0o755); err != nil {
		return err
	}
	op, err := execute.PublishRepository(ctx, prof, p)
	rememberRecords(prof.Records)
	execute.PrintRepository(w, op, err)
	if err != nil {
		return withCode(exitError, nil)
	}
	if op.Fingerprint != "" {
		fmt.Fprintf(w, "  public key: %s\n", filepath.Join(prof.LogsDir, publish.PubKeyFile))
	}
	fmt.Fprintf(w, "  clients: url: \"file://%s\"\n", filepath.Join(prof.PackagesDir, publish.Latest))
	return nil
}

// runPkgclean lists the obsolete packages of the profile's (freshly
// planned) or the plan's tree and, with yes, removes them under the
// build-base lock, records the clean and rebuilds the repository.
func runPkgclean(arg string, pf *profileFlags, yes bool, w io.Writer) error {
	ctx, stop := interruptContext()
	defer stop()
	// A port that fails to plan keeps its packages (see
	// execute.ObsoletePackages): the rest is planned.
	p, err := loadPlanArg(ctx, arg, pf)
	if err != nil {
		return err
	}
	prof := &p.Settings
	sess, err := execute.Open(prof.BuildBase, lockWarn)
	if err != nil {
		return fmt.Errorf("refusing to clean packages while the build base is in use: %w", err)
	}
	defer sess.Close()
	var db *record.DB
	if _, err := os.Stat(prof.Records); err == nil {
		if db, err = openRecords(prof.Records, true); err != nil {
			return err
		}
	}
	obs, err := execute.ObsoletePackages(p, db)
	if db != nil {
		db.Close()
	}
	if err != nil {
		return err
	}
	var total int64
	for _, o := range obs {
		fmt.Fprintf(w, "%s  %s  %s\n", o.File, distfiles.FormatBytes(o.Size), o.Reason)
		total += o.Size
	}
	all := filepath.Join(prof.PackagesDir, "All")
	if len(obs) == 0 {
		fmt.Fprintf(w, "No obsolete packages in %s.\n", all)
		return nil
	}
	if !yes {
		fmt.Fprintf(w, "\n%d obsolete packages (%s) in %s; run with -yes to remove them.\n", len(obs), distfiles.FormatBytes(total), all)
		return nil
	}
	op := &record.Operation{ID: uuid.NewString(), Kind: record.OpPkgClean, Profile: prof.Name, Start: time.Now().UTC(), Path: all}
	var errs []string
	for _, o := range obs {
		if err := os.Remove(filepath.Join(all, o.File)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err.Error())
			continue
		}
		op.Count++
		op.Bytes += o.Size
		op.Items = append(op.Items, o.String())
	}
	op.End, op.Status = time.Now().UTC(), record.OpOK
	if len(errs) > 0 {
		op.Status, op.Error = record.OpPartial, strings.Join(errs, "; ")
	}
	if rerr := record.AppendOperation(prof.Records, op); rerr != nil {
		fmt.Fprintf(stderr, "dsynth: warning: the clean was not recorded: %v\n", rerr)
	}
	fmt.Fprintf(w, "\nRemoved %d obsolete packages (%s) from %s.\n", op.Count, distfiles.FormatBytes(op.Bytes), all)
	if len(errs) > 0 {
		return fmt.Errorf("some packages could not be removed:\n  %s", strings.Join(errs, "\n  "))
	}
	// The catalog must not list what is gone.
	if _, err := os.Lstat(filepath.Join(prof.PackagesDir, publish.Latest)); err != nil && execute.RepositoryPkgFile(prof, p) == "" {
		fmt.Fprintln(w, "No repository to rebuild (no ports-mgmt/pkg package, nothing published).")
		return nil
	}
	return runRepo(ctx, prof, p, w)
}
