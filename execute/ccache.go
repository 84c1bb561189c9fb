package execute

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ccacheStats are the counters of a ccache folder that say how the cache
// served compilations.
type ccacheStats struct{ hits, misses int64 }

// readCCacheStats asks the host's ccache (when installed) for the
// counters of dir; ok is false when it cannot tell.
func readCCacheStats(dir string) (ccacheStats, bool) {
	bin, err := exec.LookPath("ccache")
	if err != nil || dir == "" {
		return ccacheStats{}, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--print-stats")
	cmd.Env = []string{"CCACHE_DIR=" + dir, "PATH=/usr/bin:/bin:/usr/local/bin"}
	out, err := cmd.Output()
	if err != nil {
		return ccacheStats{}, false
	}
	var s ccacheStats
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "direct_cache_hit", "preprocessed_cache_hit":
			s.hits += n
		case "cache_miss":
			s.misses += n
		}
	}
	return s, true
}

// ccacheLine says how the cache served this run, from counters read
// before and after it ("" when unknown).
func ccacheLine(before ccacheStats, okBefore bool, after ccacheStats, okAfter bool) string {
	if !okBefore || !okAfter {
		return ""
	}
	h, m := after.hits-before.hits, after.misses-before.misses
	if h < 0 || m < 0 { // the stats were zeroed meanwhile
		h, m = after.hits, after.misses
	}
	rate := 0.0
	if h+m > 0 {
		rate = 100 * float64(h) / float64(h+m)
	}
	return fmt.Sprintf("ccache: %d hits, %d misses (%.0f%% hit rate)", h, m, rate)
}
