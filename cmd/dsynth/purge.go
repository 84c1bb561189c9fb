package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/execute/distfiles"
	"github.com/go-dsynth/dsynth/isolate/lock"
	"github.com/go-dsynth/dsynth/spec"
)

func init() {
	register(&command{
		name:     "purge-distfiles",
		synopsis: "List (or with -yes remove) the files of distfiles_dir that no port of the tree references",
		usage:    "dsynth purge-distfiles [-yes] [-profile NAME] [-var K=V]... [-var-file F]... PROFILE.hcl\n       dsynth purge-distfiles [-yes] PLANFILE",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var pf profileFlags
			pf.register(fs)
			yes := fs.Bool("yes", false, "remove the files (default: only list them and the bytes they would free)")
			return func(args []string) error {
				arg, err := oneArg(args, "a profile file or a plan file")
				if err != nil {
					return err
				}
				return runPurge(arg, &pf, *yes)
			}
		},
	})
}

// runPurge scans every port of the tree (every flavor, excluded ports
// too: their distfiles are still the tree's), lists the files of
// distfiles_dir none references and, with yes, removes them with the
// build-base lock held. A scan with errors removes nothing.
func runPurge(arg string, pf *profileFlags, yes bool) error {
	ctx, stop := interruptContext()
	defer stop()
	var prof spec.Profile
	pa, l, err := readPlanOrProfile(arg, pf)
	switch {
	case err != nil:
		return err
	case pa != nil:
		prof = *pa.Plan().Settings.Profile()
	default:
		prof = *l.Profile
	}
	if d := filepath.Clean(prof.DistfilesDir); d == filepath.Clean(prof.BuildBase) || d == filepath.Clean(prof.PortsDir) || d == "/" {
		return fmt.Errorf("refusing to purge: distfiles_dir %s is also the build base or the ports tree", d)
	}
	whole := prof
	whole.Targets = []string{spec.AllPorts}
	whole.AllFlavors = true
	whole.Exclude = nil
	whole.PortsFile = ""
	start := time.Now()
	p, err := makePlan(ctx, &spec.Loaded{Profile: &whole}, true)
	if err != nil && p == nil {
		return fmt.Errorf("scan the ports tree: %w", err)
	}
	if bad := distfiles.ScanErrors(p.Ports); len(bad) > 0 {
		err := fmt.Errorf("refusing to purge: %d ports of the tree failed to scan, so the distfiles they need are unknown:\n  %s",
			len(bad), strings.Join(bad, "\n  "))
		if yes {
			recordPurge(&prof, start, nil, err)
		}
		return err
	}
	protect := []string{prof.PackagesDir, prof.OptionsDir, prof.LogsDir, prof.Records, prof.PortsDir,
		prof.BuildBase, prof.Workers.CCacheDir, lock.Path(prof.BuildBase)}
	u, err := distfiles.Unreferenced(prof.DistfilesDir, distfiles.References(p.Ports), protect)
	if err != nil {
		return err
	}
	for _, k := range u.Kept {
		fmt.Fprintf(stdout, "kept:    %s\n", k)
	}
	if len(u.Files) == 0 {
		fmt.Fprintf(stdout, "Nothing to purge: every file in %s is referenced by one of the %d ports of the tree.\n", u.Dir, len(p.Ports))
		return nil
	}
	if !yes {
		for _, f := range u.Files {
			fmt.Fprintf(stdout, "would remove: %s (%s)\n", f.Path, distfiles.FormatBytes(f.Size))
		}
		fmt.Fprintf(stdout, "\n%d files in %s are referenced by none of the %d ports of the tree; removing them would free %s (%d bytes).\nRun again with -yes to remove them.\n",
			len(u.Files), u.Dir, len(p.Ports), distfiles.FormatBytes(u.Bytes), u.Bytes)
		return nil
	}
	sess, err := execute.Open(prof.BuildBase, lockWarn)
	if err != nil {
		var held *lock.HeldError
		if errors.As(err, &held) {
			err = fmt.Errorf("refusing to purge: %w", err)
		}
		return err
	}
	rm, rerr := distfiles.Remove(u)
	sess.Close()
	for _, f := range rm.Files {
		fmt.Fprintf(stdout, "removed: %s (%s)\n", f.Path, distfiles.FormatBytes(f.Size))
	}
	for _, d := range rm.Dirs {
		fmt.Fprintf(stdout, "removed: %s/ (empty)\n", d)
	}
	fmt.Fprintf(stdout, "\nRemoved %d files from %s, freed %s (%d bytes).\n", len(rm.Files), u.Dir, distfiles.FormatBytes(rm.Bytes), rm.Bytes)
	recordPurge(&prof, start, rm, rerr)
	return rerr
}

func recordPurge(prof *spec.Profile, start time.Time, rm *distfiles.Removed, err error) {
	op := distfiles.PurgeOperation(prof.Name, prof.DistfilesDir, start, rm, err)
	if rerr := distfiles.Record(prof.Records, op); rerr != nil {
		fmt.Fprintf(stderr, "dsynth: warning: %v\n", rerr)
		return
	}
	rememberRecords(prof.Records)
}
