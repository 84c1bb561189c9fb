package api

import (
	"context"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/spec"
)

// slotIsolator prepares real isolate slots with a profile's layout.
type slotIsolator struct{ l isolate.Layout }

// SlotIsolator returns the isolator of real build slots for profile p
// (the default of Config.NewIsolator).
func SlotIsolator(p *spec.Profile) execute.Isolator {
	l := isolate.Layout{BuildBase: p.BuildBase, SystemDir: p.SystemDir, PortsDir: p.PortsDir,
		DistfilesDir: p.DistfilesDir, PackagesDir: p.PackagesDir, OptionsDir: p.OptionsDir,
		TmpfsWork: p.Workers.TmpfsWork, TmpfsLocalbase: p.Workers.TmpfsLocalbase, Hostname: "dsynth"}
	for _, m := range p.Environment.Mounts {
		l.Mounts = append(l.Mounts, isolate.Mount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	return &slotIsolator{l: l}
}

func (s *slotIsolator) Prepare(ctx context.Context, n int) (execute.Slot, error) {
	return isolate.Prepare(ctx, s.l, n)
}

func (s *slotIsolator) Cleanup() ([]string, error) { return isolate.Cleanup(s.l.BuildBase) }
