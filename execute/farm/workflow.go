package farm

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/go-dsynth/dsynth/execute"
)

// BuildPortWorkflow builds one port: the build activity on the job's ABI
// queue, tried again on another host (at most MaxAttempts) when a host is
// lost mid-build. A build that fails (make, package) is a Result with OK
// false, not a workflow error; cancelling the workflow cancels the build.
func BuildPortWorkflow(ctx workflow.Context, job Job) (Result, error) {
	hb := job.Heartbeat
	if hb <= 0 {
		hb = DefaultHeartbeat
	}
	var lost []execute.LostAttempt
	for i := 0; i < MaxAttempts; i++ {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			TaskQueue:           job.Queue,
			StartToCloseTimeout: 7 * 24 * time.Hour,
			HeartbeatTimeout:    hb,
			// One try per activity: the loop below retries, so that each
			// lost host is known and recorded.
			RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
			WaitForCancellation: true,
		})
		start := workflow.Now(ctx)
		var res Result
		err := workflow.ExecuteActivity(actx, ActivityName, job).Get(ctx, &res)
		if err == nil {
			res.Lost = lost
			return res, nil
		}
		if ctx.Err() != nil || temporal.IsCanceledError(err) {
			return Result{Interrupted: true, Err: "interrupted", Lost: lost}, err
		}
		var beat Beat
		var te *temporal.TimeoutError
		why := err.Error()
		if errors.As(err, &te) {
			if te.HasLastHeartbeatDetails() {
				_ = te.LastHeartbeatDetails(&beat)
			}
			if te.TimeoutType() == enumspb.TIMEOUT_TYPE_HEARTBEAT {
				why = fmt.Sprintf("build host lost: no heartbeat for %s", hb)
			}
		}
		var ae *temporal.ApplicationError
		if te == nil && errors.As(err, &ae) {
			why = "build host: " + ae.Message()
		}
		if beat.Host != "" {
			why += " (on " + beat.Host + ")"
		}
		lost = append(lost, execute.LostAttempt{Host: beat.Host, Phase: beat.Phase, Start: start, End: workflow.Now(ctx), Err: why})
	}
	last := lost[len(lost)-1]
	return Result{Host: last.Host, Phase: "farm", Err: fmt.Sprintf("lost on %d build hosts; last: %s", len(lost), last.Err),
		Lost: lost[:len(lost)-1]}, nil
}
