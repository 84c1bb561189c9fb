package runreport

import (
	"sort"
	"time"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

// Port is one port of a run: planned and actual.
type Port struct {
	Node           string `json:"node"`
	PlannedAction  string `json:"planned_action"`
	PlannedVersion string `json:"planned_version"`
	PlannedPkgFile string `json:"planned_pkgfile,omitempty"`
	Reason         string `json:"reason,omitempty"`
	// Outcome is the latest attempt's status, or NotRun.
	Outcome     string        `json:"outcome"`
	PkgFile     string        `json:"pkgfile,omitempty"`
	SHA256      string        `json:"sha256,omitempty"`
	Worker      int           `json:"worker"`
	Host        string        `json:"host,omitempty"`
	Expected    time.Duration `json:"expected_ns,omitempty"`
	Actual      time.Duration `json:"actual_ns,omitempty"`
	FailedPhase string        `json:"failed_phase,omitempty"`
	LastPhase   string        `json:"last_phase,omitempty"`
	Detail      string        `json:"detail,omitempty"`
	AttemptID   string        `json:"attempt_id,omitempty"`
	AsPlanned   bool          `json:"as_planned"`
}

// NotRun is the outcome of a planned port without an attempt.
const NotRun = "not run"

// Report is plan versus actual for a run.
type Report struct {
	Run *record.Run `json:"run"`
	// Planned summarizes the run's plan (nil without one).
	Planned *plan.Summary `json:"planned,omitempty"`
	Ports   []Port        `json:"ports"`
	// Matched counts the ports that went as planned.
	Matched int `json:"matched"`
}

// AsPlanned is true when outcome is what action announced (a port to
// build that another run built first counts as planned).
func AsPlanned(action plan.Action, outcome string) bool {
	switch action {
	case plan.ActionBuild:
		return outcome == record.AttemptSuccess || outcome == record.AttemptUpToDate
	case plan.ActionSkip:
		return outcome == record.AttemptUpToDate
	case plan.ActionIgnored:
		return outcome == record.AttemptIgnored
	case plan.ActionSkipped:
		return outcome == record.AttemptSkipped
	case plan.ActionFailed:
		return outcome == record.AttemptFailed
	}
	return false
}

// Expected is the expected build duration of each node at time t: its
// latest successful build that ended before t, from all (the history).
func Expected(all []*record.Attempt, t time.Time) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, a := range all {
		if a.Status == record.AttemptSuccess && a.Duration() > 0 && a.End.Before(t) {
			out[a.NodeID] = a.Duration()
		}
	}
	return out
}

// Compare builds the report of run: p is its plan (nil when the run kept
// none), atts its attempts, expected the expected durations (Expected).
// Each port shows its latest attempt (a lost or interrupted one is
// replaced by the next); ports attempted but not in the plan are listed
// too.
func Compare(run *record.Run, p *plan.Plan, atts []*record.Attempt, expected map[string]time.Duration) *Report {
	rep := &Report{Run: run, Ports: []Port{}}
	latest := map[string]*record.Attempt{}
	for _, a := range atts {
		if prev := latest[a.NodeID]; prev == nil || a.Start.After(prev.Start) || prev.Status == record.AttemptBuilding && a.Status != record.AttemptBuilding {
			latest[a.NodeID] = a
		}
	}
	ports := map[string]*Port{}
	if p != nil {
		s := plan.Summarize(p)
		rep.Planned = &s
		for _, n := range p.Ports {
			ports[n.ID] = &Port{Node: n.ID, PlannedAction: string(n.Action), PlannedVersion: n.Version,
				PlannedPkgFile: n.PkgFile, Reason: n.Reason, Outcome: NotRun, Worker: -1, Expected: expected[n.ID]}
		}
	}
	for id, a := range latest {
		pt := ports[id]
		if pt == nil {
			pt = &Port{Node: id, PlannedAction: a.Action, PlannedVersion: a.Version, Worker: -1, Expected: expected[id]}
			ports[id] = pt
		}
		pt.Outcome, pt.PkgFile, pt.SHA256, pt.Actual, pt.Detail, pt.AttemptID = a.Status, a.PkgFile, a.SHA256, a.Duration(), a.Error, a.ID
		pt.Worker, pt.Host, pt.LastPhase = a.Worker, a.Host, a.LastPhase
		if a.Status == record.AttemptFailed {
			pt.FailedPhase = a.LastPhase
		}
	}
	for _, pt := range ports {
		pt.AsPlanned = AsPlanned(plan.Action(pt.PlannedAction), pt.Outcome)
		if pt.AsPlanned {
			rep.Matched++
		}
		rep.Ports = append(rep.Ports, *pt)
	}
	sort.Slice(rep.Ports, func(i, j int) bool { return rep.Ports[i].Node < rep.Ports[j].Node })
	return rep
}
