//go:build !freebsd && !dragonfly

package execute

// bsdLoadAvg: Linux reads /proc/loadavg instead.
func bsdLoadAvg() float64 { return 0 }
