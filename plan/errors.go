package plan

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-dsynth/dsynth/plan/portscan"
)

// Error classes of a failed plan; test with errors.Is on the error Create
// returns (an *ErrorList) or on one of its Errs.
var (
	// ErrMissingPort: a target or dependency names a port the tree lacks.
	ErrMissingPort = portscan.ErrMissingPort
	// ErrUnknownFlavor: a target or dependency names a flavor the port
	// does not have.
	ErrUnknownFlavor = portscan.ErrUnknownFlavor
	// ErrScan: make -V failed for a port (exit status and stderr in the
	// message).
	ErrScan = portscan.ErrLoad
	// ErrCycle: the dependency graph has a cycle.
	ErrCycle = errors.New("dependency cycle")
	// ErrBadDepend: a *_DEPENDS entry could not be parsed.
	ErrBadDepend = errors.New("malformed dependency")
)

// CycleError is one dependency cycle, e.g. a/x -> b/y -> a/x.
type CycleError struct {
	// Path starts and ends with the same node ID.
	Path []string
	// members are every node of the strongly connected component (each
	// is on some cycle), sorted.
	members []string
}

func (e *CycleError) Error() string {
	return "dependency cycle: " + strings.Join(e.Path, " -> ")
}

func (e *CycleError) Unwrap() error { return ErrCycle }

// BadDependError is a *_DEPENDS entry that is not
// target:category/port[@flavor][:target].
type BadDependError struct {
	Node, Var, Entry string
}

func (e *BadDependError) Error() string {
	return e.Node + ": " + e.reason()
}

func (e *BadDependError) reason() string {
	return fmt.Sprintf("malformed %s entry %q (want target:category/port[@flavor][:target])", e.Var, e.Entry)
}

// failureReason is what a failed node's Reason says about one of its
// problems: the error without the node's name or who needs it (the plan's
// graph shows that).
func failureReason(err error) string {
	var se *portscan.Error
	var be *BadDependError
	switch {
	case errors.As(err, &se):
		switch se.Kind {
		case ErrMissingPort:
			return "no such port (no Makefile in the tree)"
		case ErrUnknownFlavor:
			return se.Reason()
		}
		return se.Err.Error()
	case errors.As(err, &be):
		return be.reason()
	}
	return err.Error()
}

func (e *BadDependError) Unwrap() error { return ErrBadDepend }

// ErrorList is every problem found while planning, reported together.
type ErrorList struct {
	Errs []error
}

func (l *ErrorList) Error() string {
	if len(l.Errs) == 1 {
		return l.Errs[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d errors:", len(l.Errs))
	for _, e := range l.Errs {
		b.WriteString("\n  - ")
		b.WriteString(e.Error())
	}
	return b.String()
}

func (l *ErrorList) Unwrap() []error { return l.Errs }
