// Package api implements `dsynth serve`: a REST API (JSON envelopes under
// /api/v1), Server-Sent Events for live logs, a WebSocket event stream,
// Prometheus metrics and an embedded web dashboard, over plan, execute
// and record (it also reads spec's resolved profiles, and takes the build
// base through an execute.Session as the CLI does). It adds no build
// logic of its own: builds are plan.Create followed by execute.Session.Apply,
// exactly as the CLI does.
//
// Model:
//
//   - Every served profile has a builder goroutine and a queue; builds of
//     a profile run one at a time under the build base lock. POST /builds
//     plans at once when the builder is free (so that the answer carries
//     the run id, the package count and an estimate from history), else
//     queues the request (answering with a preliminary plan's count and
//     estimate), planned again when its turn comes. A request that found
//     the builder free keeps its turn while it plans.
//   - The records database is never held open: each request opens it
//     read-only for its queries and closes it, as apply opens it for each
//     write batch. API keys are read from it on every request, so a
//     revoked key fails at once.
//   - apply's events (execute.Observer) feed the live state (workers,
//     phases, progress), the metrics and the event hub. The hub never
//     blocks: a WebSocket client whose buffer is full is dropped.
//   - Log and artifact ids are looked up in the records; file paths come
//     from the records only and must lie in the profile's logs_dir or
//     packages_dir, or in the logs and packages folders of one of its
//     replays (<build_base>/replay/<key>/, recorded with the run).
//   - routes.go is the endpoint table; openapi.json documents it and a
//     test keeps the two in step.
package api
