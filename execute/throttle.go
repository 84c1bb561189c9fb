package execute

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// hostSample is what the throttle reads of the host: load average per
// CPU, the percentage of swap in use and the available memory in bytes
// (negative: unknown).
type hostSample struct {
	LoadPerCPU float64
	SwapUsed   float64 // percent
	MemAvail   int64
}

// throttleRule is C dsynth's dynamic throttling: no cut below minLoad per
// CPU, a linear cut down to a quarter of the workers at maxLoad; the same
// for swap in use between a quarter of maxSwap and maxSwap; below
// minFree available memory, a quarter of the workers.
type throttleRule struct {
	minLoad, maxLoad float64
	minSwap, maxSwap float64
	minFree          int64
}

func newThrottleRule(maxLoad float64, maxSwap int, minFree int64) throttleRule {
	if maxLoad <= 0 {
		maxLoad = 5
	}
	if maxSwap <= 0 {
		maxSwap = 40
	}
	return throttleRule{minLoad: 0.3 * maxLoad, maxLoad: maxLoad, minSwap: float64(maxSwap) / 4, maxSwap: float64(maxSwap), minFree: minFree}
}

// allowed is how many of workers may take ports given s, and why fewer.
func (r throttleRule) allowed(workers int, s hostSample) (int, string) {
	frac := func(v, lo, hi float64) float64 { return min(max((v-lo)/(hi-lo), 0), 1) }
	cut, why := 0.0, ""
	if f := frac(s.LoadPerCPU, r.minLoad, r.maxLoad); f > cut {
		cut, why = f, fmt.Sprintf("load %.1f per CPU", s.LoadPerCPU)
	}
	if f := frac(s.SwapUsed, r.minSwap, r.maxSwap); f > cut {
		cut, why = f, fmt.Sprintf("swap %.0f%% used", s.SwapUsed)
	}
	if r.minFree > 0 && s.MemAvail >= 0 && s.MemAvail < r.minFree {
		cut, why = 1, fmt.Sprintf("%d MiB of memory available, below %d MiB", s.MemAvail>>20, r.minFree>>20)
	}
	floor := int(math.Ceil(float64(workers) / 4))
	n := workers - int(math.Round(cut*float64(workers-floor)))
	n = min(max(n, 1), workers)
	if n == workers {
		why = ""
	}
	return n, why
}

// sampleHost reads the host's load, swap and memory (Linux: /proc; on
// the BSDs the load only, memory and swap unknown).
func sampleHost() hostSample {
	s := hostSample{LoadPerCPU: hostLoadPerCPU(), MemAvail: -1}
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return s
	}
	kv := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			kv[k] = n << 10 // kB
		}
	}
	if v, ok := kv["MemAvailable"]; ok {
		s.MemAvail = v
	}
	if t := kv["SwapTotal"]; t > 0 {
		s.SwapUsed = 100 * float64(t-kv["SwapFree"]) / float64(t)
	}
	return s
}

// throttleEvery is how often a run samples the host for throttling.
const throttleEvery = 5 * time.Second

// throttle samples the host every d and sets the gate's limit, emitting an
// event when it changes, until stop is called.
func (a *applier) throttle(gate *WorkerGate, workers int, d time.Duration, sample func() hostSample) (stop func()) {
	wk := &a.p.Settings.Workers
	rule := newThrottleRule(wk.MaxLoad, wk.MaxSwap, wk.MinFreeMemory)
	last := workers
	check := func() {
		n, why := rule.allowed(workers, sample())
		if n == last {
			return
		}
		last = n
		gate.setLimit(n)
		reason := fmt.Sprintf("%d of %d workers take ports", n, workers)
		if why != "" {
			reason += " (" + why + ")"
		}
		a.emit(Event{Kind: EventThrottle, Worker: -1, Reason: reason, Allowed: n})
	}
	check()
	return every(d, check)
}

// HostLoadPerCPU is this host's 1-minute load average per CPU (what a
// build host of a farm reports).
func HostLoadPerCPU() float64 { return hostLoadPerCPU() }
