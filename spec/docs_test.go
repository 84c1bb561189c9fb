package spec

import (
	"os"
	"strings"
	"testing"
)

// TestDocs keeps docs/spec.md in step with the code: every function is
// listed and the annotated example is examples/demo.hcl.
func TestDocs(t *testing.T) {
	doc, err := os.ReadFile("../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range FunctionNames() {
		if !strings.Contains(string(doc), "`"+name) {
			t.Errorf("docs/spec.md does not list the function %s", name)
		}
	}
	demo, err := os.ReadFile("../examples/demo.hcl")
	if err != nil {
		t.Fatal(err)
	}
	// The doc shows the demo from its first variable comment on.
	body := string(demo)[strings.Index(string(demo), "# Variables are set"):]
	if !strings.Contains(string(doc), "```hcl\n"+body+"```") {
		t.Errorf("docs/spec.md's annotated example differs from examples/demo.hcl")
	}
	for _, s := range append(append(PackageSuffixes, Networks...), SlotMounts...) {
		if !strings.Contains(string(doc), "`"+s+"`") {
			t.Errorf("docs/spec.md does not mention %s", s)
		}
	}
}
