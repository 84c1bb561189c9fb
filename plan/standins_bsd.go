//go:build freebsd || dragonfly

package plan

import (
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func hostStandIns() map[string]string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil
	}
	str := func(b []byte) string {
		s := string(b)
		if i := strings.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		return s
	}
	sys, rel, mach := str(u.Sysname[:]), str(u.Release[:]), str(u.Machine[:])
	ver, _ := unix.SysctlUint32("kern.osreldate")
	arch := mach
	if runtime.GOARCH == "amd64" {
		arch = "x86_64"
		if sys == "FreeBSD" {
			arch = "amd64"
		}
	}
	osrel := rel
	if i := strings.IndexByte(osrel, '-'); i >= 0 {
		osrel = osrel[:i]
	}
	return map[string]string{
		"OPSYS":      sys,
		"UNAME_s":    sys,
		"UNAME_r":    rel,
		"UNAME_v":    sys + " " + rel,
		"UNAME_m":    mach,
		"UNAME_p":    arch,
		"ARCH":       arch,
		"OSVERSION":  strconv.FormatUint(uint64(ver), 10),
		"OSREL":      osrel,
		"_OSRELEASE": rel,
	}
}
