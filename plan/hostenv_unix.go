//go:build unix

package plan

import "golang.org/x/sys/unix"

// HostMakeEnv returns the host's uname answers in the variables bmake's
// host-target.mk would otherwise fill by running uname(1) three times per
// make run (_HOST_OSNAME, _HOST_OSREL, _HOST_MACHINE, _HOST_ARCH). They are
// exactly what uname prints, so they change nothing but speed: a make -V
// run of a small port is about twice as fast with them on Debian's bmake.
// They are facts of the scanning host, not pinned inputs: they are in no
// cache key, input key or plan file. BSD make ignores them. Each call asks
// the kernel (one uname(2)); a planner asks once per plan.
func HostMakeEnv() []string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil
	}
	s, r, m := unix.ByteSliceToString(u.Sysname[:]), unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Machine[:])
	env := []string{"_HOST_OSNAME=" + s, "_HOST_OSREL=" + r, "_HOST_MACHINE=" + m}
	if s != "NetBSD" { // host-target.mk asks uname -p on NetBSD
		env = append(env, "_HOST_ARCH="+m)
	}
	return env
}
