package execute

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// defaultIdle are the phases' no-output limits when the profile sets no
// idle_timeout, after C dsynth's per-phase watchdogs: a hung port ends
// without configuration. Quick bookkeeping phases get minutes, the long
// silent ones (a big fetch, a link, compressing a large package) hours.
var defaultIdle = map[string]time.Duration{
	"check-sanity": 5 * time.Minute, "pkg-depends": 5 * time.Minute, "fetch-depends": 5 * time.Minute,
	"fetch": 60 * time.Minute, "checksum": 15 * time.Minute, "extract-depends": 5 * time.Minute,
	"extract": 30 * time.Minute, "patch-depends": 5 * time.Minute, "patch": 15 * time.Minute,
	"build-depends": 5 * time.Minute, "lib-depends": 5 * time.Minute, "configure": 30 * time.Minute,
	"build": 120 * time.Minute, "run-depends": 5 * time.Minute, "stage": 60 * time.Minute,
	"test": 120 * time.Minute, "check-plist": 15 * time.Minute, "package": 60 * time.Minute,
	"install-pkg": 15 * time.Minute, "install-deps": 15 * time.Minute,
}

// fallbackIdle is the limit of a phase the table does not name.
const fallbackIdle = 60 * time.Minute

// idleLimit is how long phase may print nothing: the profile's
// idle_timeout when set, else the phase's default scaled by the host's
// load (load average per CPU, at least 1), as C dsynth scales its
// watchdogs: a busy host makes every phase slower.
func idleLimit(profile time.Duration, table map[string]time.Duration, phase string, loadPerCPU func() float64) time.Duration {
	if profile > 0 {
		return profile
	}
	if table == nil {
		table = defaultIdle
	}
	d, ok := table[phase]
	if !ok {
		d = fallbackIdle
	}
	if loadPerCPU != nil {
		if f := loadPerCPU(); f > 1 {
			d = time.Duration(float64(d) * min(f, 8))
		}
	}
	return d
}

// hostLoadPerCPU is the 1-minute load average divided by the CPU count
// (0 when unknown, e.g. on a system without /proc/loadavg).
func hostLoadPerCPU() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return bsdLoadAvg() / float64(runtime.NumCPU())
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return 0
	}
	return v / float64(runtime.NumCPU())
}
