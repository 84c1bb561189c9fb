package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/go-dsynth/dsynth/record"
)

// runPlanExport is `dsynth plan export [-records FILE] RUN_ID -out FILE`:
// it writes the exact plan file bytes a past run applied.
func runPlanExport(args []string) error {
	fs := flag.NewFlagSet("dsynth plan export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rf recordsFlags
	rf.register(fs)
	out := fs.String("out", "", "write the plan to `FILE` (required)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dsynth plan export [-records FILE | -profile-file PROFILE.hcl] RUN_ID|last -out FILE\n\nWrite the plan a past run applied, byte for byte.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	// Flags may come before or after RUN_ID.
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return errReported
		}
		args = fs.Args()
		if len(args) > 0 {
			pos = append(pos, args[0])
			args = args[1:]
		}
	}
	if len(pos) != 1 {
		return errors.New("plan export: expected exactly one run ID (or last)")
	}
	if *out == "" {
		return errors.New("plan export: -out FILE is required")
	}
	var run *record.Run
	if err := withRecords(&rf, func(db *record.DB) error {
		var err error
		run, err = db.Run(pos[0])
		return err
	}); err != nil {
		return err
	}
	if len(run.Plan) == 0 {
		return fmt.Errorf("run %s has no plan recorded", run.ID)
	}
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, run.Plan, 0o644); err != nil {
		return fmt.Errorf("plan export: %w", err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		return fmt.Errorf("plan export: %w", err)
	}
	fmt.Fprintf(stdout, "Wrote the plan of run %s (digest %s) to %s.\n", run.ID, short12(run.PlanDigest), *out)
	return nil
}
