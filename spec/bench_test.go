package spec

import "testing"

// BenchmarkLoad decodes the fixture that uses every attribute.
func BenchmarkLoad(b *testing.B) {
	f := fixtures + "/valid/full.hcl"
	opt := Options{CPUs: 4, GOOS: "linux", VarFiles: []string{fixtures + "/valid/full.vars.hcl"}}
	for b.Loop() {
		if _, diags := Load(f, opt); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
