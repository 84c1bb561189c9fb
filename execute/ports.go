package execute

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/go-dsynth/dsynth/plan"
)

// SlotDistfiles is where a slot sees the profile's distfiles_dir (the
// DISTDIR of every make run).
const SlotDistfiles = slotDistfiles

// Ports runs single make targets of a plan's ports in slots the way the
// build phases run them (the same environment, make command, slot paths,
// phase timeout and watchdog), for workflows other than a build, such as
// fetching distfiles (execute/distfiles).
type Ports struct{ b *builder }

// NewPorts returns the Ports of plan p.
func NewPorts(p *plan.Plan) *Ports { return &Ports{b: newBuilder(p, nil, nil)} }

// Env is node n's worker environment, sorted ("K=V").
func (x *Ports) Env(n *plan.Node) []string { return x.b.env(n) }

// MakeArgv is `make -C /xports/<origin> [FLAVOR=f] target...`.
func (x *Ports) MakeArgv(n *plan.Node, targets ...string) []string {
	argv := append([]string{x.b.makeCommand(), "-C", slotPorts + "/" + n.Origin}, n.MakeArgs()...)
	return append(argv, targets...)
}

// SetupCmd is one command that prepares a slot (a pkg bootstrap, a
// package install).
type SetupCmd struct {
	What string // e.g. "install pkg-1.0.pkg"
	Argv []string
}

// Setup returns the commands that install in a fresh slot what the
// dependencies of node n of the given kinds need, as a build installs
// them: the pkg bootstrap, then their packages with their library and run
// closure (dependencies first). missing lists the package files that
// packages_dir/All lacks (the commands would fail: those ports must be
// built first). No dependency of those kinds: nil, nil.
func (x *Ports) Setup(n *plan.Node, kinds ...plan.DepKind) (cmds []SetupCmd, missing []string) {
	b := x.b
	deps := b.installSetOf(n, kinds)
	if len(deps) == 0 {
		return nil, nil
	}
	have := func(file string) {
		if fi, err := os.Stat(filepath.Join(b.pkgsDir, "All", file)); err != nil || !fi.Mode().IsRegular() {
			missing = append(missing, file)
		}
	}
	if b.pkgNode != nil && b.pkgNode.PkgFile != "" {
		have(b.pkgNode.PkgFile)
		cmds = append(cmds, SetupCmd{What: "bootstrap " + b.pkgNode.PkgFile,
			Argv: []string{"tar", "-xf", slotPackages + "/All/" + b.pkgNode.PkgFile, "-C", "/", "--exclude", "+*"}})
	}
	var files []string
	for _, d := range deps {
		have(d.PkgFile)
		files = append(files, slotPackages+"/All/"+d.PkgFile)
		if b.pkgNode == nil {
			cmds = append(cmds, SetupCmd{What: "install " + d.PkgFile,
				Argv: []string{"tar", "-xf", slotPackages + "/All/" + d.PkgFile, "-C", "/", "--exclude", "+*"}})
		}
	}
	if b.pkgNode != nil {
		what := "install"
		for _, d := range deps {
			what += " " + d.PkgFile
		}
		cmds = append(cmds, SetupCmd{What: what, Argv: append([]string{pkgStatic, "add"}, files...)})
	}
	return cmds, missing
}

// Run runs argv with env in slot (with the host network when network is
// set) under the profile's phase timeout and the no-output watchdog of
// phase, its output to w; what names the command in a timeout's message.
// A timeout is an error.
func (x *Ports) Run(ctx context.Context, slot Slot, w io.Writer, argv, env []string, network bool, phase, what string) (int, error) {
	return x.b.runCmd(ctx, slot, &syncWriter{w: w}, argv, env, network, phase, what)
}

// HostDirs makes the host folders the slots of plan p mount (distfiles,
// packages, options, writable mount sources) and its logs folder, as
// Apply does before building.
func HostDirs(p *plan.Plan) error { return hostDirs(&p.Settings) }
