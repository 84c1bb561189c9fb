// Package execute applies a plan: it schedules ready ports on a pool of
// isolated workers, runs the build phases, propagates failures to
// dependents, reports progress and events, and records every attempt.
// It never re-reads the profile or re-scans the ports tree.
package execute
