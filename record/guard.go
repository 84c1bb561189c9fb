package record

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// ErrCorrupt is wrapped by Guard's error for a database that cannot be
// read.
var ErrCorrupt = errors.New("damaged records database")

// Guard runs fn, which reads a records database, and turns what a damaged
// file does to bbolt into an error wrapping ErrCorrupt: a panic, or a
// memory fault reading the file's map (Guard makes faults panics for the
// calling goroutine while fn runs).
func Guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	return fn()
}
