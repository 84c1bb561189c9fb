//go:build !unix

package plan

// statSig has no change time to trust on this system: plans are never
// memoized.
func statSig(p string, lstat bool) (fileSig, bool) { return fileSig{}, false }

const memoSupported = false
