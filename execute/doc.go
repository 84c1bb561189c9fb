// Package execute applies a plan: it schedules ready ports on a pool of
// isolated workers, runs the build phases, propagates failures to
// dependents, reports progress and events, and records every attempt.
// It never re-reads the profile or re-scans the ports tree.
//
// The model:
//
//   - Schedule (scheduler.go) is a generic ready-set scheduler over jobs
//     with dependencies and expected durations: a job starts as soon as
//     its dependencies succeeded, no worker idles while a job is ready,
//     ready jobs go by the longest remaining chain of expected durations,
//     and a failed job skips its transitive dependents with the chain in
//     the reason. It knows nothing of ports.
//   - the builder (build.go) builds one port in a fresh slot from an
//     Isolator (the real one wraps the isolate package; tests interpret
//     the commands): pkg bootstrap, dependency install with pkg-static,
//     the make phases under phase and idle timeouts, and the atomic move
//     of the package into packages_dir with its SHA-256.
//   - a Session (session.go) holds a build base for one workflow of a
//     front end: it takes the build base's lock, and Session.Apply is the
//     one way to run a plan. The CLI, serve and replay all go through
//     it; Recover is the same crash recovery for fronts that do not hold
//     the build base (status, serve's database clean).
//   - apply (apply.go) ties them to the plan and the records: crash
//     recovery, resume from earlier runs of the same plan, one records
//     transaction per port start and end (the database is opened per
//     batch, never held while building), the live status file, the
//     per-port and summary logs (logs.go), and Events for observers such
//     as the Progress display (progress.go) or dsynth serve.
//
// Slots are prepared per port rather than reused: a slot's /usr/local and
// /construction then hold exactly the port's dependencies, and a slot
// costs about 0.15 s, small beside the make phases.
package execute
