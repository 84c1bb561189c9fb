//go:build unix

package plan

import (
	"errors"

	"golang.org/x/sys/unix"
)

// statSig returns the stat signature of p (of the link itself when
// lstat), the zero fileSig when p does not exist; ok is false when p
// cannot be stat'ed for another reason.
func statSig(p string, lstat bool) (fileSig, bool) {
	var st unix.Stat_t
	var err error
	if lstat {
		err = unix.Lstat(p, &st)
	} else {
		err = unix.Stat(p, &st)
	}
	if err != nil {
		return fileSig{}, errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)
	}
	return fileSig{
		Dev: uint64(st.Dev), Ino: uint64(st.Ino), Mode: uint32(st.Mode), Size: st.Size,
		Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano(),
	}, true
}

// memoSupported: stat signatures carry a change time here.
const memoSupported = true
