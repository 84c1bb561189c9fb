package execute

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/go-dsynth/dsynth/plan"
)

// PortExecutor builds one port of a plan for Apply. Without one
// (Options.Executor nil) Apply builds in this host's slots; a build farm
// (execute/farm) dispatches each port to a build host, which builds it
// with BuildOne.
type PortExecutor interface {
	BuildPort(ctx context.Context, req PortRequest) PortResult
}

// PortRequest is one port to build.
type PortRequest struct {
	// Worker is Apply's worker number (0-based), Attempt the attempt ID
	// Apply recorded for this build.
	Worker  int
	Attempt string
	RunID   string
	Plan    *plan.Plan
	Node    *plan.Node
	// Progress reports the phase the build is in.
	Progress func(phase string)
}

// Jobs cuts a plan into the parts its ports' builds need (a farm
// dispatching each port to a build host): made once per plan, so that
// each port costs only its own dependencies.
type Jobs struct{ b *builder }

// NewJobs indexes plan p.
func NewJobs(p *plan.Plan) *Jobs { return &Jobs{newBuilder(p, nil, nil)} }

// Plan is the part of the plan that building node id needs: the node,
// the dependencies it installs (Deps kept, for their closure) and
// ports-mgmt/pkg, with the plan's profile, tree and environment. A build
// host builds from it (BuildOne) without the whole plan.
func (j *Jobs) Plan(id string) (*plan.Plan, error) {
	b := j.b
	n := b.nodes[id]
	if n == nil {
		return nil, fmt.Errorf("job plan: no node %s in the plan", id)
	}
	keep := []*plan.Node{n}
	keep = append(keep, b.installSet(n)...)
	if b.pkgNode != nil && b.pkgNode.ID != id {
		keep = append(keep, b.pkgNode)
	}
	sub := *b.p
	sub.Ports, sub.Order = make([]plan.Node, 0, len(keep)), nil
	for _, k := range keep {
		sub.Ports = append(sub.Ports, *k)
	}
	sort.Slice(sub.Ports, func(a, c int) bool { return sub.Ports[a].ID < sub.Ports[c].ID })
	return &sub, nil
}

// InstallFiles are the package files building node id installs first
// (its install set, then ports-mgmt/pkg).
func (j *Jobs) InstallFiles(id string) []string {
	b := j.b
	n := b.nodes[id]
	if n == nil {
		return nil
	}
	var out []string
	for _, d := range b.installSet(n) {
		out = append(out, d.PkgFile)
	}
	if b.pkgNode != nil && b.pkgNode.ID != id && b.pkgNode.PkgFile != "" {
		out = append(out, b.pkgNode.PkgFile)
	}
	return out
}

// OneBuild is one port built on this host outside Apply (a build host of
// a farm): the plan (a Jobs.Plan, its profile's folders this host's own),
// the slot to build in and where progress and the log go.
type OneBuild struct {
	Plan     *plan.Plan
	NodeID   string
	Isolator Isolator
	// Slot is the worker number (0-based): the build uses slot Slot+1.
	Slot     int
	Progress func(phase string)
	// Log receives a copy of the port log as it is written.
	Log io.Writer
}

// BuildOne builds one port in a slot, as Apply would, and moves its
// package into the plan's packages_dir/All.
func BuildOne(ctx context.Context, o OneBuild) PortResult {
	b := newBuilder(o.Plan, o.Isolator, nil)
	b.logTee = o.Log
	if o.Progress != nil {
		b.progress = func(_ int, _ string, phase string) { o.Progress(phase) }
	}
	n := b.nodes[o.NodeID]
	if n == nil {
		return PortResult{Outcome: Outcome{Phase: "setup", Err: "no node " + o.NodeID + " in the job's plan"}}
	}
	return b.build(ctx, o.Slot, n)
}
