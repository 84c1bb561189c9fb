package spec

import (
	"io"

	"github.com/hashicorp/hcl/v2"
)

// Options select a profile and set variables.
type Options struct {
	// Profile names the profile block; "" selects the only one.
	Profile string
	// Vars are -var arguments in command-line order, each "NAME=VALUE".
	Vars []string
	// VarFiles are -var-file arguments in command-line order.
	VarFiles []string
}

// Loaded is the result of Load.
type Loaded struct {
	Profile *Profile
	// Source is the profile file's bytes, as read.
	Source []byte
	// Files maps file names to parsed files, for rendering diagnostics.
	Files map[string]*hcl.File
}

// Load reads the profile file at path and resolves the selected profile.
// TODO(spec): replaced by the full decoder.
func Load(path string, opt Options) (*Loaded, hcl.Diagnostics) {
	return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "profile loading is being written"}}
}

// WriteDiagnostics renders diags with source snippets to w.
func WriteDiagnostics(w io.Writer, l *Loaded, diags hcl.Diagnostics) {
	var files map[string]*hcl.File
	if l != nil {
		files = l.Files
	}
	wr := hcl.NewDiagnosticTextWriter(w, files, 78, false)
	_ = wr.WriteDiagnostics(diags)
}
