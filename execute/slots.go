package execute

import (
	"context"

	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/spec"
)

// Layout is the slot layout of profile p.
func Layout(p *spec.Profile) isolate.Layout {
	l := isolate.Layout{BuildBase: p.BuildBase, SystemDir: p.SystemDir, PortsDir: p.PortsDir,
		DistfilesDir: p.DistfilesDir, PackagesDir: p.PackagesDir, OptionsDir: p.OptionsDir,
		TmpfsWork: p.Workers.TmpfsWork, TmpfsLocalbase: p.Workers.TmpfsLocalbase}
	for _, m := range p.Environment.Mounts {
		l.Mounts = append(l.Mounts, isolate.Mount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	return l
}

// SlotIsolator is the Isolator of real isolate slots for profile p.
func SlotIsolator(p *spec.Profile) Isolator { return &slotIsolator{layout: Layout(p)} }

type slotIsolator struct{ layout isolate.Layout }

func (s *slotIsolator) Prepare(ctx context.Context, n int) (Slot, error) {
	return isolate.Prepare(ctx, s.layout, n)
}

func (s *slotIsolator) Cleanup() ([]string, error) { return isolate.Cleanup(s.layout.BuildBase) }

// VerifyPlan is an Options.Verify over plan.Verify.
func VerifyPlan(ctx context.Context, p *plan.Plan) ([]string, error) {
	ch, err := plan.Verify(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ch))
	for i, c := range ch {
		out[i] = c.String()
	}
	return out, nil
}
