package main

import (
	"os"
	"testing"
)

// TestMain removes the binary the end-to-end tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if e2eBin != "" {
		os.Remove(e2eBin)
	}
	os.Exit(code)
}
