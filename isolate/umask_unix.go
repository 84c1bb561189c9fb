//go:build linux || freebsd || dragonfly

package isolate

import "golang.org/x/sys/unix"

// BuildUmask is the umask of every command run in a slot, whatever the
// umask of the dsynth process: builds must not depend on the invoking
// user's settings (see docs/replay.md, the fixed build environment).
const BuildUmask = 0o022

// setBuildUmask sets the slot helper's umask (inherited by the commands it
// starts).
func setBuildUmask() { unix.Umask(BuildUmask) }
