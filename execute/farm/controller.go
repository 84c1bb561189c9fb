package farm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/record"
)

// ExecutorOptions configure the controller side of a farm apply.
type ExecutorOptions struct {
	Client client.Client
	Plan   *plan.Plan
	// Finished counts the finished builds of each node and input key
	// (FinishedBuilds): they tell a build under way, which a restarted
	// controller attaches to, from a new one.
	Finished map[string]int
	// Server is the package server (already listening), URL what build
	// hosts reach it at.
	Server *Server
	URL    string
	// Heartbeat is the heartbeat timeout of a build host.
	Heartbeat time.Duration
}

// Executor is the execute.PortExecutor of a farm.
type Executor struct {
	o    ExecutorOptions
	abi  ABI
	jobs *execute.Jobs
	ww   worker.Worker
	mu   sync.Mutex
	sums map[string]sumEntry // package file -> SHA-256
}

type sumEntry struct {
	size int64
	mod  time.Time
	sum  string
}

// NewExecutor starts the controller's workflow worker (the workflows
// go on while the controller runs; build hosts run them too).
func NewExecutor(o ExecutorOptions) (*Executor, error) {
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	e := &Executor{o: o, abi: ABIOf(o.Plan.Environment.Vars), jobs: execute.NewJobs(o.Plan), sums: map[string]sumEntry{}}
	e.ww = worker.New(o.Client, WorkflowQueue, worker.Options{Identity: "dsynth-controller"})
	e.ww.RegisterWorkflowWithOptions(BuildPortWorkflow, workflow.RegisterOptions{Name: WorkflowName})
	if err := e.ww.Start(); err != nil {
		return nil, fmt.Errorf("farm: %w", err)
	}
	return e, nil
}

// ABI is the plan's build ABI: only hosts of that ABI take its builds.
func (e *Executor) ABI() ABI { return e.abi }

// Close stops the workflow worker.
func (e *Executor) Close() { e.ww.Stop() }

// FinishedBuilds counts the recorded builds that ended (success or
// failed) per node and input key (FinishedKey).
func FinishedBuilds(db *record.DB) (map[string]int, error) {
	atts, err := db.AttemptsSince(time.Time{})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, a := range atts {
		if a.Status == record.AttemptSuccess || a.Status == record.AttemptFailed {
			out[FinishedKey(a.NodeID, a.InputKey)]++
		}
	}
	return out, nil
}

// FinishedKey is the key of FinishedBuilds.
func FinishedKey(node, inputKey string) string { return node + "\x00" + inputKey }

// BuildPort dispatches one port build and waits for it.
func (e *Executor) BuildPort(ctx context.Context, req execute.PortRequest) execute.PortResult {
	n := req.Node
	res := execute.PortResult{Start: time.Now()}
	fail := func(phase, msg string) execute.PortResult {
		res.End = time.Now()
		res.Outcome = execute.Outcome{Phase: phase, Err: msg, Interrupted: ctx.Err() != nil}
		if ctx.Err() != nil {
			res.Outcome.Err = "interrupted"
		}
		return res
	}
	prof := &req.Plan.Settings
	res.LogPath = filepath.Join(prof.LogsDir, execute.LogName(n.ID))
	if n.Meta {
		os.WriteFile(res.LogPath, []byte("meta port: no package to build\n"), 0o644)
		res.Outcome, res.End = execute.Outcome{OK: true}, time.Now()
		return res
	}
	sub, err := e.jobs.Plan(n.ID)
	if err != nil {
		return fail("setup", err.Error())
	}
	pj, err := planfile.Marshal(sub)
	if err != nil {
		return fail("setup", err.Error())
	}
	wid := WorkflowID(FarmID(prof.Name, e.o.Server.Token), n.ID, n.InputKey, e.o.Finished[FinishedKey(n.ID, n.InputKey)])
	key := KeyOf(wid)
	job := Job{Key: key, NodeID: n.ID, Plan: pj, Packages: map[string]string{}, Server: e.o.URL,
		Token: e.o.Server.Token, Queue: e.abi.Queue(), Heartbeat: e.o.Heartbeat}
	for _, f := range e.jobs.InstallFiles(n.ID) {
		path := filepath.Join(prof.PackagesDir, "All", f)
		sum, err := e.sum(path)
		if err != nil {
			return fail("install-deps", fmt.Sprintf("dependency package %s: %v", f, err))
		}
		job.Packages[f] = sum
		e.o.Server.Offer(sum, path)
	}
	if err := os.WriteFile(res.LogPath, []byte(fmt.Sprintf("dsynth farm build of %s\nworkflow:  %s\nqueue:     %s\n", n.ID, wid, job.Queue)), 0o644); err != nil {
		return fail("setup", fmt.Sprintf("log: %v", err))
	}
	var pmu sync.Mutex
	last := ""
	e.o.Server.expect(key, &build{node: n.ID, logPath: res.LogPath, progress: func(phase string) {
		pmu.Lock()
		defer pmu.Unlock()
		if phase != last && req.Progress != nil {
			last = phase
			req.Progress(phase)
		}
	}})
	defer e.o.Server.forget(key)

	run, err := e.o.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: wid, TaskQueue: WorkflowQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, WorkflowName, job)
	if err != nil {
		return fail("dispatch", fmt.Sprintf("farm: start the build workflow: %v", err))
	}
	var r Result
	err = run.Get(ctx, &r)
	if ctx.Err() != nil {
		// Interrupted: stop the build on its host too.
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		e.o.Client.CancelWorkflow(cctx, wid, "")
		cancel()
		return fail("build", "interrupted")
	}
	if err != nil {
		return fail("farm", fmt.Sprintf("farm: build workflow %s: %v", wid, err))
	}
	res.Host, res.Lost = r.Host, r.Lost
	res.Phases, res.DepsInstalled, res.Env, res.MakeArgs = r.Phases, r.DepsInstalled, r.Env, r.MakeArgs
	defer e.o.Server.finished(r.Host, n.ID, r.OK)
	if !r.OK {
		res.Outcome = execute.Outcome{Phase: r.Phase, Err: r.Err, Interrupted: r.Interrupted}
		res.End = time.Now()
		return res
	}
	if err := e.take(key, prof.PackagesDir, n.PkgFile, r.SHA256); err != nil {
		return fail("package", fmt.Sprintf("package %s from %s: %v", n.PkgFile, r.Host, err))
	}
	res.PkgFile, res.Size, res.SHA256 = n.PkgFile, r.Size, r.SHA256
	res.Outcome, res.End = execute.Outcome{OK: true}, time.Now()
	return res
}

// take moves the uploaded package into packages_dir/All after checking
// its SHA-256 (an earlier controller may have moved it already).
func (e *Executor) take(key, pkgsDir, file, sum string) error {
	if file == "" {
		return nil
	}
	dst := filepath.Join(pkgsDir, "All", file)
	staged := e.o.Server.Staged(key)
	got, err := fileSum(staged)
	if errors.Is(err, os.ErrNotExist) {
		if have, err := fileSum(dst); err == nil && have == sum {
			return nil
		}
		return fmt.Errorf("the build host's upload is missing")
	}
	if err != nil {
		return err
	}
	if got != sum {
		os.Remove(staged)
		return fmt.Errorf("the upload's SHA-256 is %s, the build host said %s", got, sum)
	}
	return os.Rename(staged, dst)
}

// sum is the SHA-256 of a package file (cached while it is unchanged).
func (e *Executor) sum(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	e.mu.Lock()
	c, ok := e.sums[path]
	e.mu.Unlock()
	if ok && c.size == fi.Size() && c.mod.Equal(fi.ModTime()) {
		return c.sum, nil
	}
	s, err := fileSum(path)
	if err != nil {
		return "", err
	}
	e.mu.Lock()
	e.sums[path] = sumEntry{fi.Size(), fi.ModTime(), s}
	e.mu.Unlock()
	return s, nil
}
