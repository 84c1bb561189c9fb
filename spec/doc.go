// Package spec defines the dsynth profile language and decodes it.
//
// A profile file is HCL (hashicorp/hcl/v2) holding variable, locals and one
// or more profile "NAME" {} blocks. Load evaluates one profile into a
// Profile: a plain Go value with every path absolute and every default
// filled in, so later packages (plan, execute, isolate, record, api) never
// see HCL. Every problem is reported as an hcl.Diagnostic carrying the file,
// line and column of the offending expression; all problems of a file are
// reported together.
package spec
