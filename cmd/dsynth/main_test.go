package main

import (
	"os"
	"testing"
)

// TestMain removes the binary the end-to-end tests built.
func TestMain(m *testing.M) {
	// Every reused plan is checked against a fresh one (see plan's memo).
	os.Setenv("DSYNTH_PLAN_MEMO", "check")
	code := m.Run()
	if e2eBin != "" {
		os.Remove(e2eBin)
	}
	os.Exit(code)
}
