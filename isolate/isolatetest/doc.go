// Package isolatetest is the conformance suite every isolate
// implementation passes. It proves from inside real slots (as root) what
// the slot contract promises: the layout, read-only mounts, fresh tmpfs
// areas, process and network isolation, process-tree killing on
// cancellation, exact exit statuses and output, independent concurrent
// slots, clean teardown and crash cleanup.
//
// A test binary using it must call isolate.MaybeRunHelper and
// MaybeRunCrashChild first thing in TestMain: the suite re-executes the
// test binary to prepare a slot in a process it then SIGKILLs.
package isolatetest
