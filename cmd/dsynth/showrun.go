package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/plan/runreport"
	"github.com/go-dsynth/dsynth/record"
)

// RunReport is `dsynth show -json RUN_ID`: the run's plan versus actual
// (runreport, the report the API serves too), a one-line summary and the
// operations that followed the run.
type RunReport struct {
	*runreport.Report
	Summary string `json:"summary"`
	// Operations followed the run: the repository it published.
	Operations []*record.Operation `json:"operations"`
	// PlanError says why the run's stored plan could not be read (then
	// only the attempts are shown).
	PlanError string `json:"plan_error,omitempty"`
}

// showRun renders a recorded run: plan versus actual.
func showRun(arg string, jsonOut bool, rf *recordsFlags) error {
	return withRecords(rf, func(db *record.DB) error {
		rep, err := runReport(db, arg)
		if err != nil {
			return err
		}
		if jsonOut {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}
		printRunReport(rep)
		return nil
	})
}

func runReport(db *record.DB, arg string) (*RunReport, error) {
	r, err := db.Run(arg)
	if err != nil {
		return nil, err
	}
	atts, err := db.RunAttempts(r.ID)
	if err != nil {
		return nil, err
	}
	all, err := db.AttemptsSince(time.Time{})
	if err != nil {
		return nil, err
	}
	var pl *plan.Plan
	planErr := ""
	if len(r.Plan) > 0 {
		if f, err := planfile.Decode(r.Plan); err != nil {
			planErr = err.Error()
		} else {
			pl = f.Plan()
		}
	}
	rep := &RunReport{Report: runreport.Compare(r, pl, atts, runreport.Expected(all, r.Start)), Operations: []*record.Operation{}, PlanError: planErr}
	ops, err := db.RunOperations(r.ID)
	if err != nil {
		return nil, err
	}
	rep.Operations = append(rep.Operations, ops...)
	c := r.Counts
	rep.Summary = fmt.Sprintf("Run %s %s: %d planned, %d built, %d failed, %d skipped, %d ignored, %d up to date; %d of %d ports went as planned.",
		short(r.ID), r.Status, c.Planned, c.Built, c.Failed, c.Skipped, c.Ignored, c.UpToDate, rep.Matched, len(rep.Ports))
	return rep, nil
}

func printRunReport(rep *RunReport) {
	r := rep.Run
	fmt.Fprintf(stdout, "Run %s, plan %s, profile %q, %s, started %s, %s, %s\n\n", r.ID, short12(r.PlanDigest),
		r.ProfileName, plural(r.Workers, "worker"), r.Start.Local().Format("2006-01-02 15:04:05"), fmtDur(r.Duration()), r.Status)
	if r.ReplayOf != "" {
		fmt.Fprintf(stdout, "Replay of %s (dsynth replay), packages in %s\n\n", r.ReplayOf, r.PackagesDir)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PORT\tPLANNED\tVERSION\tOUTCOME\tPACKAGE\tEXPECTED\tACTUAL\tDETAIL")
	for _, p := range rep.Ports {
		pkg := p.PkgFile
		if pkg == "" {
			pkg = "-"
		} else if p.PlannedPkgFile != "" && p.PlannedPkgFile != p.PkgFile {
			pkg += " (planned " + p.PlannedPkgFile + ")"
		}
		detail := p.Detail
		if p.FailedPhase != "" {
			detail = "failed in " + p.FailedPhase + ": " + p.Detail
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Node, p.PlannedAction, p.PlannedVersion, p.Outcome, pkg,
			fmtDur(p.Expected), fmtDur(p.Actual), detail)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%s\n", rep.Summary)
	if rep.PlanError != "" {
		fmt.Fprintf(stdout, "The run's stored plan cannot be read (%s): only its attempts are shown.\n", rep.PlanError)
	}
	for _, op := range rep.Operations {
		fmt.Fprintf(stdout, "%s\n", operationLine(op))
	}
	if len(r.Hooks) > 0 {
		bad := 0
		for _, h := range r.Hooks {
			if h.Status != "ok" {
				bad++
			}
		}
		fmt.Fprintf(stdout, "Hooks: %d run, %d not ok", len(r.Hooks), bad)
		for _, h := range r.Hooks {
			if h.Status != "ok" {
				fmt.Fprintf(stdout, "\n  %s %s: %s %s", h.Hook, h.Origin, h.Status, h.Error)
			}
		}
		fmt.Fprintln(stdout)
	}
}

// operationLine says in one line what an operation did.
func operationLine(op *record.Operation) string {
	what := ""
	switch op.Kind {
	case record.OpRepository:
		what = fmt.Sprintf("Repository %s: %d packages", op.Status, op.Count)
		if op.Path != "" {
			what += " published at " + op.Path
		}
		if op.Fingerprint != "" {
			what += ", signed (fingerprint sha256 " + op.Fingerprint + ")"
		} else if op.Status == record.OpOK {
			what += ", unsigned"
		}
	case record.OpPkgClean:
		what = fmt.Sprintf("Package clean %s: %d packages removed (%d bytes)", op.Status, op.Count, op.Bytes)
	case record.OpFetch:
		what = fmt.Sprintf("Fetch %s: %d distfiles (%d bytes)", op.Status, op.Count, op.Bytes)
	case record.OpPurgeDistfiles:
		what = fmt.Sprintf("Distfiles purge %s: %d files removed (%d bytes)", op.Status, op.Count, op.Bytes)
	default:
		what = fmt.Sprintf("%s %s: %d (%d bytes)", op.Kind, op.Status, op.Count, op.Bytes)
	}
	if op.Error != "" {
		what += ": " + oneLineErr(op.Error)
	}
	return what
}

func oneLineErr(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
