package farm

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// TestWorkflowRetriesLostHosts: a build whose host stops heartbeating is
// tried again; the lost attempt comes back with its host and phase, and a
// port lost on every try fails with the reason.
func TestWorkflowRetriesLostHosts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lose     int
		ok       bool
		lost     int
		errWants string
	}{
		{"built at once", 0, true, 0, ""},
		{"one host lost", 1, true, 1, ""},
		{"lost everywhere", MaxAttempts, false, MaxAttempts - 1, "lost on 3 build hosts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			env := s.NewTestWorkflowEnvironment()
			calls := 0
			env.RegisterActivityWithOptions(func(ctx context.Context, job Job) (Result, error) {
				calls++
				if calls <= tc.lose {
					return Result{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_HEARTBEAT, errors.New("no heartbeat"), Beat{Host: "host-a", Phase: "build"})
				}
				return Result{Host: "host-b", OK: true, PkgFile: "x-1.pkg"}, nil
			}, activity.RegisterOptions{Name: ActivityName})
			env.ExecuteWorkflow(BuildPortWorkflow, Job{NodeID: "misc/x", Queue: "q"})
			if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
				t.Fatalf("workflow: %v", env.GetWorkflowError())
			}
			var r Result
			if err := env.GetWorkflowResult(&r); err != nil {
				t.Fatal(err)
			}
			if r.OK != tc.ok || len(r.Lost) != tc.lost || !strings.Contains(r.Err, tc.errWants) {
				t.Fatalf("result %+v", r)
			}
			for _, l := range r.Lost {
				if l.Host != "host-a" || l.Phase != "build" || !strings.Contains(l.Err, "build host lost") {
					t.Errorf("lost attempt %+v", l)
				}
			}
		})
	}
}
