// Package api implements `dsynth serve`: a REST + SSE/WebSocket API over
// plan, execute and record. It adds no build logic of its own.
package api
