package execute

import (
	"testing"
	"time"
)

func TestExpectedDurations(t *testing.T) {
	of := expectedDurations(map[string]time.Duration{
		"devel/a":    10 * time.Second,
		"lang/p@py3": 30 * time.Second,
		"lang/p@py2": 20 * time.Second,
		"misc/m":     5 * time.Second,
		"misc/m@x11": 50 * time.Second,
	})
	for _, tc := range []struct {
		id   string
		want time.Duration
	}{
		{"devel/a", 10 * time.Second},       // its own history
		{"lang/p@py2", 20 * time.Second},    // its own, not the longest flavor
		{"lang/p@py4", 30 * time.Second},    // new flavor: longest of the origin
		{"lang/p", 30 * time.Second},        // default flavor without history
		{"misc/m", 5 * time.Second},         // its own beats the other flavor
		{"devel/a@nox11", 10 * time.Second}, // flavor of an origin seen unflavored
		{"devel/new", 0},                    // unknown
	} {
		if got := of(tc.id); got != tc.want {
			t.Errorf("expected duration of %s = %s, want %s", tc.id, got, tc.want)
		}
	}
}
