package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

// RunPort is one port of `dsynth show RUN_ID`: what the plan said and
// what happened.
type RunPort struct {
	Node           string        `json:"node"`
	PlannedAction  string        `json:"planned_action"`
	PlannedVersion string        `json:"planned_version"`
	PlannedPkgFile string        `json:"planned_pkgfile,omitempty"`
	Outcome        string        `json:"outcome"` // an attempt status, or "not run"
	PkgFile        string        `json:"pkgfile,omitempty"`
	SHA256         string        `json:"sha256,omitempty"`
	Expected       time.Duration `json:"expected_ns,omitempty"`
	Actual         time.Duration `json:"actual_ns,omitempty"`
	FailedPhase    string        `json:"failed_phase,omitempty"`
	Detail         string        `json:"detail,omitempty"`
	AttemptID      string        `json:"attempt_id,omitempty"`
}

// RunReport is `dsynth show -json RUN_ID`.
type RunReport struct {
	Run     *record.Run `json:"run"`
	Ports   []RunPort   `json:"ports"`
	Summary string      `json:"summary"`
	// Operations followed the run: the repository it published.
	Operations []*record.Operation `json:"operations"`
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
	// Expected durations: the latest success of each node before the run.
	all, err := db.AttemptsSince(time.Time{})
	if err != nil {
		return nil, err
	}
	expected := map[string]time.Duration{}
	for _, a := range all {
		if a.Status == record.AttemptSuccess && a.Duration() > 0 && a.End.Before(r.Start) {
			expected[a.NodeID] = a.Duration()
		}
	}
	ports := map[string]*RunPort{}
	var pl plan.Plan
	if len(r.Plan) > 0 && json.Unmarshal(r.Plan, &pl) == nil {
		for _, n := range pl.Ports {
			ports[n.ID] = &RunPort{Node: n.ID, PlannedAction: string(n.Action), PlannedVersion: n.Version,
				PlannedPkgFile: n.PkgFile, Outcome: "not run", Expected: expected[n.ID]}
		}
	}
	for _, a := range atts {
		p := ports[a.NodeID]
		if p == nil {
			p = &RunPort{Node: a.NodeID, PlannedAction: a.Action, PlannedVersion: a.Version, Expected: expected[a.NodeID]}
			ports[a.NodeID] = p
		}
		p.Outcome, p.PkgFile, p.SHA256, p.Actual, p.Detail, p.AttemptID = a.Status, a.PkgFile, a.SHA256, a.Duration(), a.Error, a.ID
		if a.Status == record.AttemptFailed {
			p.FailedPhase = a.LastPhase
		}
	}
	rep := &RunReport{Run: r, Operations: []*record.Operation{}}
	ops, err := db.RunOperations(r.ID)
	if err != nil {
		return nil, err
	}
	rep.Operations = append(rep.Operations, ops...)
	matched := 0
	for _, p := range ports {
		rep.Ports = append(rep.Ports, *p)
		if asPlanned(p) {
			matched++
		}
	}
	sort.Slice(rep.Ports, func(i, j int) bool { return rep.Ports[i].Node < rep.Ports[j].Node })
	c := r.Counts
	rep.Summary = fmt.Sprintf("Run %s %s: %d planned, %d built, %d failed, %d skipped, %d ignored, %d up to date; %d of %d ports went as planned.",
		short(r.ID), r.Status, c.Planned, c.Built, c.Failed, c.Skipped, c.Ignored, c.UpToDate, matched, len(ports))
	return rep, nil
}

// asPlanned is true when the outcome is the one the plan announced.
func asPlanned(p *RunPort) bool {
	switch plan.Action(p.PlannedAction) {
	case plan.ActionBuild:
		return p.Outcome == record.AttemptSuccess || p.Outcome == record.AttemptUpToDate
	case plan.ActionSkip:
		return p.Outcome == record.AttemptUpToDate
	case plan.ActionIgnored:
		return p.Outcome == record.AttemptIgnored
	case plan.ActionSkipped:
		return p.Outcome == record.AttemptSkipped
	case plan.ActionFailed:
		return p.Outcome == record.AttemptFailed
	}
	return false
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
