// Package nohook holds a test binary that deliberately does not call
// isolate.MaybeRunHelper: Prepare must then fail at once with a hint,
// not hang or recurse.
package nohook
