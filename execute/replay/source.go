package replay

import (
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/plan/rundiff"
	"github.com/go-dsynth/dsynth/record"
)

// Source is what a replay rebuilds: a plan and, when it came from the
// records, the run that applied it.
type Source struct {
	Plan *plan.Plan
	// Run is the original run; nil for a plan file (then the latest
	// non-replay run of the same plan digest, if any, is the original).
	Run *record.Run
	// Label says where the plan came from ("run 1a2b3c4d", "plan file x").
	Label string
}

// Key names the replay's directory under <build_base>/replay and its
// record link: the original run's ID, or "plan-" and the digest's first
// 12 digits for a plan file.
func (s *Source) Key() string {
	if s.Run != nil {
		return s.Run.ID
	}
	return "plan-" + s.Plan.Digest[:min(12, len(s.Plan.Digest))]
}

// link is the Run.ReplayOf value of a replay of s.
func (s *Source) link() string {
	if s.Run != nil {
		return s.Run.ID
	}
	return "plan:" + s.Plan.Digest
}

// FromPlanFile reads and verifies (format version, digest) a plan file.
func FromPlanFile(path string) (*Source, error) {
	f, err := planfile.Read(path)
	if err != nil {
		return nil, err
	}
	return &Source{Plan: f.Plan(), Label: "plan file " + path}, nil
}

// FromRun loads the plan stored with run id ("last", an ID or a unique
// prefix).
func FromRun(db *record.DB, id string) (*Source, error) {
	r, p, err := rundiff.RunPlan(db, id)
	if err != nil {
		return nil, err
	}
	return &Source{Plan: p, Run: r, Label: "run " + r.ID}, nil
}

// Original is the package a node had when the plan was applied.
type Original = rundiff.NodePackage

// Originals finds, for every node of s's plan, the package originally
// built with the node's input key (rundiff.NodePackages of the original
// run). For a plan file without a run, s.Run is set to the latest
// non-replay run of the plan, if any.
func Originals(db *record.DB, s *Source) (map[string]Original, error) {
	if s.Run == nil {
		runs, err := db.Runs()
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			if r.PlanDigest == s.Plan.Digest && r.ReplayOf == "" {
				s.Run = r // latest wins (runs are oldest first)
			}
		}
	}
	return rundiff.NodePackages(db, s.Plan, s.Run)
}
