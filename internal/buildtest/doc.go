// Package buildtest sets up real builds for tests: a copy of a testdata
// ports tree in a fresh git repository, a profile for it, and plan +
// apply in real slots. Tests using it need root, bmake, gcc and git, and
// must call isolate.MaybeRunHelper first thing in TestMain.
package buildtest
