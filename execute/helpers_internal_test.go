package execute

import (
	"bytes"
	"testing"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
)

// planFile is planfile.Encode(p); it fails the test on an error.
func planFile(t testing.TB, p *plan.Plan) *planfile.File {
	t.Helper()
	f, err := planfile.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// validPlanFile reports whether b is a plan file of digest d (the
// synthetic plans of these tests have no order: not decoded).
func validPlanFile(b []byte, d string) bool {
	return d != "" && bytes.Contains(b, []byte(`"digest": "`+d+`"`))
}
