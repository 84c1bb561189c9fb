//go:build freebsd || dragonfly

package execute

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// bsdLoadAvg reads vm.loadavg (struct loadavg: three fixpt_t, then a long
// fscale) and returns the 1-minute load average.
func bsdLoadAvg() float64 {
	b, err := unix.SysctlRaw("vm.loadavg")
	if err != nil || len(b) < 16 {
		return 0
	}
	ld := binary.NativeEndian.Uint32(b[0:4])
	var scale uint64
	if len(b) >= 24 {
		scale = binary.NativeEndian.Uint64(b[16:24])
	} else {
		scale = uint64(binary.NativeEndian.Uint32(b[12:16]))
	}
	if scale == 0 {
		return 0
	}
	return float64(ld) / float64(scale)
}
