package isolate

import (
	"context"
	"io"
)

// Layout describes what a slot contains. It is plain data shared by every
// implementation.
type Layout struct {
	// BuildBase holds the slots: slot n lives in BuildBase/SL<NN>.
	BuildBase string
	// SystemDir is the base system the slot sees read-only ("/" usually).
	SystemDir    string
	PortsDir     string // -> /xports (ro)
	DistfilesDir string // -> /distfiles (rw)
	PackagesDir  string // -> /packages (ro: dependencies are installed from it)
	OptionsDir   string // -> /options (ro)
	// OutputDir -> /.npkg (rw) is the only folder a build may write its
	// package to; the caller takes the result from there, outside the slot.
	OutputDir string
	// TmpfsWork and TmpfsLocalbase size /construction and /usr/local in
	// bytes; 0 means no explicit limit.
	TmpfsWork      int64
	TmpfsLocalbase int64
	// Mounts are extra bind/nullfs mounts.
	Mounts []Mount
	// Hostname is the slot's host name (UTS namespace on Linux).
	Hostname string
}

// Mount is an extra mount declared by the profile.
type Mount struct {
	Source   string
	Target   string
	ReadOnly bool
}

// Cmd is one command run inside a slot.
type Cmd struct {
	// Argv is the program and its arguments, resolved inside the slot.
	Argv []string
	// Env is the complete environment ("K=V"); nothing else is inherited.
	Env []string
	// Dir is the working directory inside the slot ("/" if empty).
	Dir string
	// Stdout and Stderr receive the output as it is produced (nil discards).
	Stdout, Stderr io.Writer
	// Stdin is the command's standard input (nil: /dev/null of the slot).
	// An *os.File (a terminal, for an interactive shell) is given to the
	// command as it is; any other reader is copied through a pipe, closed
	// when the reader ends.
	Stdin io.Reader
	// Network gives the command the host network; otherwise it sees only
	// loopback.
	Network bool
	// Nice is added to the command's niceness.
	Nice int
}

// Slot is a prepared build slot.
type Slot interface {
	// Root is the slot's root directory on the host.
	Root() string
	// Run runs c inside the slot and returns its exit status. err is
	// non-nil when the command could not be run or was killed because ctx
	// ended (then the whole process tree is killed first).
	Run(ctx context.Context, c Cmd) (status int, err error)
	// Teardown kills anything left in the slot, unmounts everything and
	// removes the slot directory.
	Teardown() error
}
