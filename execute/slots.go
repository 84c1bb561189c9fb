package execute

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-dsynth/dsynth/execute/publish"
	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/isolate/lock"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/record"
)

// BuildHostname is the host name every slot has: builds must not depend
// on which worker ran them (nor on the host's name).
const BuildHostname = "dsynth-builder"

// SlotLayout is the slot layout of plan p: its profile's directories and
// limits, with the fixed BuildHostname.
func SlotLayout(p *plan.Plan) isolate.Layout { return SettingsLayout(&p.Settings) }

// SettingsLayout is the slot layout of profile prof, with the fixed
// BuildHostname.
func SettingsLayout(prof *plan.Settings) isolate.Layout {
	l := isolate.Layout{
		BuildBase:      prof.BuildBase,
		SystemDir:      prof.SystemDir,
		PortsDir:       prof.PortsDir,
		DistfilesDir:   prof.DistfilesDir,
		PackagesDir:    prof.PackagesDir,
		OptionsDir:     prof.OptionsDir,
		TmpfsWork:      prof.Workers.TmpfsWork,
		TmpfsLocalbase: prof.Workers.TmpfsLocalbase,
		Hostname:       BuildHostname,
	}
	for _, m := range prof.Environment.Mounts {
		l.Mounts = append(l.Mounts, isolate.Mount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	if prof.Workers.CCacheDir != "" {
		l.Mounts = append(l.Mounts, isolate.Mount{Source: prof.Workers.CCacheDir, Target: slotCCache})
	}
	return l
}

// SlotIsolator is the Isolator of real slots (isolate.Prepare) with
// layout l.
func SlotIsolator(l isolate.Layout) Isolator { return slotIsolator{l} }

type slotIsolator struct{ l isolate.Layout }

func (s slotIsolator) Prepare(ctx context.Context, n int, output string) (Slot, error) {
	l := s.l
	l.OutputDir = output
	return isolate.Prepare(ctx, l, n)
}

func (s slotIsolator) Cleanup() ([]string, error) { return isolate.Cleanup(s.l.BuildBase) }

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

// PlanPublisher is the Publisher of plan p: its profile's repository,
// built with the plan's ports-mgmt/pkg package.
func PlanPublisher(p *plan.Plan) Publisher { return planPublisher{p} }

type planPublisher struct{ p *plan.Plan }

func (pp planPublisher) Publish(ctx context.Context, runID string) (*record.Operation, error) {
	pkg := ""
	if n := pp.p.Node(pp.p.PkgNode); n != nil {
		pkg = n.PkgFile
	}
	return publish.Publish(ctx, RepositoryOptions(&pp.p.Settings, pkg, runID))
}

// RepositoryOptions are the publish.Options of profile prof's repository
// (built with the package file pkgFile of ports-mgmt/pkg), recorded as
// following run runID ("" on its own).
func RepositoryOptions(prof *plan.Settings, pkgFile, runID string) publish.Options {
	rc := prof.RepositoryConfig()
	return publish.Options{Layout: SettingsLayout(prof), PackagesDir: prof.PackagesDir, LogsDir: prof.LogsDir,
		PkgFile: pkgFile, SigningKey: rc.SigningKey, SigningCommand: rc.SigningCommand,
		Records: prof.Records, Profile: prof.Name, RunID: runID}
}

// PublishRepository builds and publishes the repository of profile prof
// on its own (not after a run), with the ports-mgmt/pkg package of plan p
// (may be nil) or the one RepositoryPkgFile finds. The caller holds the
// build-base lock.
func PublishRepository(ctx context.Context, prof *plan.Settings, p *plan.Plan) (*record.Operation, error) {
	if err := os.MkdirAll(prof.LogsDir, 0o755); err != nil {
		return nil, fmt.Errorf("repository: %w", err)
	}
	return publish.Publish(ctx, RepositoryOptions(prof, RepositoryPkgFile(prof, p), ""))
}

// RepositoryPkgFile finds the ports-mgmt/pkg package in packages_dir/All:
// plan p's (p may be nil), else the latest the records know, else the
// newest pkg-<version> file; "" when there is none.
func RepositoryPkgFile(prof *plan.Settings, p *plan.Plan) string {
	all := filepath.Join(prof.PackagesDir, "All")
	exists := func(f string) bool {
		fi, err := os.Stat(filepath.Join(all, f))
		return f != "" && err == nil && fi.Mode().IsRegular()
	}
	if p != nil {
		if n := p.Node(p.PkgNode); n != nil && exists(n.PkgFile) {
			return n.PkgFile
		}
	}
	if _, err := os.Stat(prof.Records); err == nil {
		if db, err := record.Open(prof.Records, record.Options{ReadOnly: true, Timeout: 10 * time.Second}); err == nil {
			pkgs, err := db.Packages()
			db.Close()
			if pk, ok := pkgs[plan.PkgOrigin]; err == nil && ok && exists(pk.PkgFile) {
				return pk.PkgFile
			}
		}
	}
	var newest string
	var t time.Time
	matches, _ := filepath.Glob(filepath.Join(all, "pkg-[0-9]*"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() && fi.ModTime().After(t) {
			newest, t = filepath.Base(m), fi.ModTime()
		}
	}
	return newest
}

// RunningHere reports whether a live process holds buildBase's lock and
// its PID: a run on that build base is alive only while it does.
func RunningHere(buildBase string) (pid int, live bool, err error) { return lock.Holder(buildBase) }
