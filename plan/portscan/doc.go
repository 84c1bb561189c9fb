// Package portscan reads port metadata from a ports tree with BSD make and
// walks the dependency closure of a set of targets.
//
// Query runs one `make -C <portdir> [FLAVOR=f] -V '${VAR}' ...` and parses
// its output. The `${VAR}` form makes Debian's bmake (which prints plain
// `-V VAR` values unexpanded) and BSD make both print expanded values.
//
// Walk discovers the closure: a coordinator goroutine owns all state, a
// fixed pool of workers runs the Loader (hashing, cache lookup, make), and
// results are consumed as they arrive, each adding the dependencies it
// names to the work queue. Exactly Jobs loaders run at once whatever the
// tree size; the queue holds at most one entry per port and flavor; the
// coordinator never blocks on a send while a worker blocks on a result (it
// selects on both), so the walk cannot deadlock.
//
// Flavors: the first scan of an origin is always without FLAVOR; it yields
// FLAVORS and so the default flavor, which makes `origin` and
// `origin@<default>` one node without a second make. Requests for other
// flavors wait for that first scan, then are scanned with FLAVOR=f or
// rejected as an unknown flavor.
package portscan
