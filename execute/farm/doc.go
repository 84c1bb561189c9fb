// Package farm builds a plan across several build hosts on Temporal: the
// controller (Executor, an execute.PortExecutor behind the same Apply as a
// local run) starts one workflow per port build, with an ID fixed by the
// plan and the node so that a restarted controller attaches to it again;
// the workflow runs the build as an activity on the task queue of the
// plan's build ABI, where `dsynth worker` processes (Worker) take it,
// build in their own slots with execute.BuildOne, heartbeat the phase and
// stream the log back. Packages travel over the controller's package
// server (Server), addressed and verified by SHA-256. A host lost
// mid-build (no heartbeat) is retried on another; the lost attempt is
// returned for the records. See docs/farm.md.
package farm
