// Package archtest holds the architecture test: the import rules of the
// design (../shared/DESIGN.md, "Imports that must hold") checked on the
// real import graph with `go list`.
package archtest
