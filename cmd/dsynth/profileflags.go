package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/go-dsynth/dsynth/spec"
)

// profileFlags are the flags every command taking PROFILE.hcl shares.
type profileFlags struct {
	profile  string
	vars     multiFlag
	varFiles multiFlag
}

func (p *profileFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.profile, "profile", "", "profile `NAME` to use (default: the only profile in the file)")
	fs.Var(&p.vars, "var", "set a variable, `NAME=VALUE` (repeatable)")
	fs.Var(&p.varFiles, "var-file", "read variables from an HCL `FILE` (repeatable)")
}

// load loads the profile at path, printing diagnostics to stderr.
func (p *profileFlags) load(path string) (*spec.Loaded, error) {
	l, diags := spec.Load(path, spec.Options{Profile: p.profile, Vars: p.vars, VarFiles: p.varFiles})
	if len(diags) > 0 {
		spec.WriteDiagnostics(stderr, l, diags)
	}
	if diags.HasErrors() {
		return nil, errReported
	}
	return l, nil
}

// oneArg checks that exactly one positional argument was given.
func oneArg(args []string, what string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("expected exactly one argument, %s (flags go before it)", what)
	}
	return args[0], nil
}

// stderr receives diagnostics; tests may replace it.
var stderr io.Writer = os.Stderr
