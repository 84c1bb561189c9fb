package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	originRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]*/[A-Za-z0-9][A-Za-z0-9_.+-]*(@[A-Za-z0-9_][A-Za-z0-9_.+-]*)?$`)
	optionRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	sizeRE   = regexp.MustCompile(`^([0-9]+)([kKmMgGtT]?)[bB]?$`)
)

// AllPorts is the target that means every port of the tree.
const AllPorts = "all"

// CheckOrigin reports whether s is a port origin, category/port or
// category/port@flavor.
func CheckOrigin(s string) error {
	if !originRE.MatchString(s) {
		return fmt.Errorf("%q is not a port origin: want category/port or category/port@flavor", s)
	}
	return nil
}

// CheckExclude validates an exclude pattern: an origin (every flavor of
// the port), origin@flavor (that flavor), or category/* (every port of
// the category).
func CheckExclude(s string) error {
	if cat, ok := strings.CutSuffix(s, "/*"); ok && originRE.MatchString(cat+"/x") {
		return nil
	}
	if !originRE.MatchString(s) {
		return fmt.Errorf("%q is not an exclude pattern: want category/port, category/port@flavor or category/*", s)
	}
	return nil
}

// ParseSize parses a size: plain bytes ("1048576") or a number with a
// k, m, g or t suffix (powers of 1024, an optional trailing b: "8g",
// "512m", "1024kb"). "0" means no limit.
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: want bytes or a number with k, m, g or t (e.g. 8g, 512m)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %w", s, err)
	}
	shift := map[string]uint{"": 0, "k": 10, "m": 20, "g": 30, "t": 40}[strings.ToLower(m[2])]
	if n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n << shift, nil
}

// ParseDuration parses a duration such as "90s", "30m", "4h" or "1h30m"
// (Go syntax; also "d" for days). "0" means no limit.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	var days time.Duration
	if i := strings.IndexByte(t, 'd'); i > 0 {
		n, err := strconv.Atoi(t[:i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration: want e.g. 90s, 30m, 4h, 1d", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		t = t[i+1:]
		if t == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: want e.g. 90s, 30m, 4h, 1d", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return days + d, nil
}
