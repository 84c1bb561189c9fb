// Package spec defines the dsynth profile language and decodes it.
//
// A profile file is HCL (hashicorp/hcl/v2) holding variable, locals and one
// or more profile "NAME" {} blocks. Load evaluates one profile into a
// Profile: a plain Go value with every path absolute and every default
// filled in, so later packages (plan, execute, isolate, record, api) never
// see HCL. Every problem is reported as an hcl.Diagnostic carrying the file,
// line and column of the offending expression; all problems of a file are
// reported together.
//
// Decoding goes in this order (load.go, vars.go, decode.go):
//
//  1. parse the file; the top level may only hold variable, locals and
//     profile blocks;
//  2. declare variables (type constraint via ext/typeexpr, constant
//     default) and give them values: default, then -var-file files, then
//     -var options, in command-line order, the last one winning;
//  3. evaluate the locals in dependency order (a depth-first walk over
//     their local.NAME references; cycles are reported on every member);
//  4. decode every profile block (so errors in the profiles not selected
//     are reported too) with the low-level hcl.BodySchema API rather than
//     gohcl, which keeps a source range for each value (list elements
//     included) and lets decoding continue after an error;
//  5. return the selected profile when there is no error.
//
// Something that failed is replaced by an unknown value, and expressions
// depending on an unknown value are skipped silently, so one mistake gives
// one diagnostic, not a cascade.
//
// Expressions may only reference var.NAME and local.NAME and call the pure
// functions of funcs.go plus env(NAME[, DEFAULT]), whose reads are
// recorded in Profile.EnvRead for plans to pin. Options.CPUs, GOOS and
// Getenv exist so that tests (and golden files) do not depend on the
// machine.
//
// The fixtures in testdata/profiles are the executable specification:
// valid/*.hcl with golden JSON (go test ./spec -update rewrites them) and
// invalid/*.hcl whose "# ERROR: <summary>" comments name the diagnostics
// expected on each line. docs/spec.md is the reference for users.
package spec
