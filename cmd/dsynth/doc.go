// Command dsynth is the command-line interface: flag parsing, output
// formatting and exit codes. It is thin: every command calls into spec,
// plan, execute, isolate, record or api.
//
// Each command lives in its own file and registers itself in init with
// register. Flags are single-dash and come before positional arguments, as
// in terraform. Errors are mapped to exit codes in one place (exitCode).
package main
