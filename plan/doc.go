// Package plan turns a resolved profile and a ports tree into a Plan: it
// scans ports with `make -V`, resolves the dependency graph, computes each
// port's dsynth-compatible CRC32 and its input key, decides build or skip for
// every node, and reads and writes the deterministic plan file.
//
// The in-memory Plan is separate from its file encoding (as in Terraform's
// plans and plans/planfile). execute consumes a Plan and never re-reads the
// profile or re-scans the tree.
package plan
