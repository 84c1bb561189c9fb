package rundiff

import (
	"sort"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

// NodePackage is the package a node had in a run.
type NodePackage struct {
	// Status is the node's attempt status in the run ("" when it has no
	// attempt there).
	Status  string `json:"status,omitempty"`
	PkgFile string `json:"pkgfile,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	// RunID and AttemptID name the build that produced SHA256 (another
	// run's when the node was up to date).
	RunID     string `json:"run_id,omitempty"`
	AttemptID string `json:"attempt_id,omitempty"`
}

// NodePackages returns, for every node of p, the package it had in run
// (nil run: the latest builds of the nodes' input keys): the run's
// successful attempt, else (up to date in the run) the latest successful
// non-replay build with the node's input key that ended before the run.
func NodePackages(db *record.DB, p *plan.Plan, run *record.Run) (map[string]NodePackage, error) {
	runs, err := db.Runs()
	if err != nil {
		return nil, err
	}
	replays := map[string]bool{}
	for _, r := range runs {
		if r.ReplayOf != "" {
			replays[r.ID] = true
		}
	}
	byNode := map[string]*record.Attempt{}
	if run != nil {
		atts, err := db.RunAttempts(run.ID)
		if err != nil {
			return nil, err
		}
		for _, a := range atts {
			byNode[a.NodeID] = a
		}
	}
	out := make(map[string]NodePackage, len(p.Ports))
	for i := range p.Ports {
		n := &p.Ports[i]
		var o NodePackage
		if a := byNode[n.ID]; a != nil {
			o.Status = a.Status
			if a.SHA256 != "" && (a.Status == record.AttemptSuccess || a.Status == record.AttemptUpToDate) {
				o.PkgFile, o.SHA256, o.RunID, o.AttemptID = a.PkgFile, a.SHA256, a.RunID, a.ID
			}
		}
		if o.SHA256 == "" && (o.Status == "" || o.Status == record.AttemptUpToDate) && n.PkgFile != "" {
			hist, err := db.History(n.ID)
			if err != nil {
				return nil, err
			}
			sort.SliceStable(hist, func(i, j int) bool { return hist[i].End.Before(hist[j].End) })
			for _, a := range hist {
				if a.NodeID != n.ID || a.Status != record.AttemptSuccess || a.SHA256 == "" ||
					a.InputKey != n.InputKey || replays[a.RunID] {
					continue
				}
				if run != nil && !run.End.IsZero() && a.End.After(run.End) {
					continue
				}
				o.PkgFile, o.SHA256, o.RunID, o.AttemptID = a.PkgFile, a.SHA256, a.RunID, a.ID
			}
		}
		out[n.ID] = o
	}
	return out, nil
}
