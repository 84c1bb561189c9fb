// Package portgen writes synthetic BSD ports trees for tests and
// benchmarks, and is the single source of the small ports framework
// (Mk/bsd.port.mk and friends) and the ports-mgmt/pkg port that every tree
// of this repository ships.
//
// # The framework
//
// The directory mk/ is the framework, embedded here and copied verbatim
// into testdata/ports/good/Mk and examples/ports/Mk (a test checks the
// copies; `go test ./internal/portgen -run TestCopiesInSync -update`
// refreshes them). pkgport/ is ports-mgmt/pkg, whose pkg-static (a POSIX sh
// script) provides `add`, `info`, `delete` and `query`. docs/ports.md
// describes the contract: variables, phases, package format, pkg-static.
//
// # Synthetic trees
//
// Build draws a tree from Options: N ports over realistic categories with a
// random DAG (seeded, so the same Options give the same bytes): most ports
// have 0-5 dependencies, a few hubs collect many dependents, dependency
// kinds are mixed (BUILD, RUN, LIB to ports that install a library, and a
// few FETCH/EXTRACT/PATCH/TEST), and a few ports are flavored, some of their
// dependents naming a flavor. Ports are numbered in a topological order:
// port i only depends on ports j < i, so the graph is acyclic by
// construction. Every port builds trivially (optionally sleeping a seeded
// random duration in [SleepMin, SleepMax] in its build phase, for scheduler
// makespan benchmarks), installs share/gen/<category>/<name>[-<flavor>]
// (plus lib/lib<name>.so for library ports) and packages it.
//
// Tree.Write writes the tree (Mk, ports-mgmt/pkg, the ports); Generate
// does Build and Write in one call. Tree also reports the figures a
// benchmark needs: the dependency lists and each port's sleep, the total
// work and the critical path.
//
// The command internal/portgen/cmd/portgen builds a tree, writes it and
// prints its figures:
//
//	go run ./internal/portgen/cmd/portgen -n 2000 -seed 1 -out DIR
package portgen
