// Package testtool is how tests ask for the programs they run for real
// (openssl, bmake, ip, the temporal CLI): `make test-deps` installs them,
// so a missing one fails the test with the way to install it instead of
// skipping what it checks.
package testtool

import (
	"os/exec"
	"testing"
)

// Need fails t unless every tool is on PATH.
func Need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run `make test-deps` (the README's test command installs what the tests run)", tool)
		}
	}
}
