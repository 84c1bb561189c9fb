package farm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
)

// WorkerOptions configure a build host (`dsynth worker`).
type WorkerOptions struct {
	// Client connects to Temporal.
	Client client.Client
	// Name is the host's name in the records (default: the host name).
	Name string
	// ABI is the build ABI this host builds for (its task queue).
	ABI ABI
	// Slots is how many ports it builds at once (default 1).
	Slots int
	// PortsDir is this host's copy of the ports tree (the plan's commit:
	// each job checks it), BuildBase its build base (slots, packages,
	// logs, distfiles, options below it unless set).
	PortsDir, BuildBase      string
	DistfilesDir, OptionsDir string
	SystemDir                string
	Mounts                   []isolate.Mount
	HTTP                     *http.Client
	// Logf receives what the host does (nil: nothing).
	Logf func(format string, a ...any)
}

// RunWorker registers the build activity on o.ABI's queue (and the
// workflow on WorkflowQueue) and serves until ctx ends.
func RunWorker(ctx context.Context, o WorkerOptions) error {
	if o.Slots <= 0 {
		o.Slots = 1
	}
	if o.Name == "" {
		o.Name, _ = os.Hostname()
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	for _, d := range []string{o.PortsDir, o.BuildBase} {
		if !filepath.IsAbs(d) {
			return fmt.Errorf("worker: %q must be an absolute path", d)
		}
	}
	h := &host{o: o, slots: make(chan int, o.Slots)}
	for i := 0; i < o.Slots; i++ {
		h.slots <- i
	}
	ww := worker.New(o.Client, WorkflowQueue, worker.Options{Identity: o.Name})
	ww.RegisterWorkflowWithOptions(BuildPortWorkflow, workflow.RegisterOptions{Name: WorkflowName})
	bw := worker.New(o.Client, o.ABI.Queue(), worker.Options{Identity: o.Name, MaxConcurrentActivityExecutionSize: o.Slots})
	bw.RegisterActivityWithOptions(h.buildPort, activity.RegisterOptions{Name: ActivityName})
	if err := ww.Start(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer ww.Stop()
	if err := bw.Start(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer bw.Stop()
	o.Logf("build host %s: %d slots, queue %s", o.Name, o.Slots, o.ABI.Queue())
	<-ctx.Done()
	return nil
}

type host struct {
	o     WorkerOptions
	slots chan int
	mu    sync.Mutex // packages_dir downloads
}

// buildPort is the activity: fetch the dependencies, build in a slot,
// upload the package.
func (h *host) buildPort(ctx context.Context, job Job) (Result, error) {
	var slot int
	select {
	case slot = <-h.slots:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	defer func() { h.slots <- slot }()
	res := Result{Host: h.o.Name, Start: time.Now().UTC()}
	beat := &beater{host: h.o.Name, phase: "setup", post: func(phase string) { h.postPhase(job, phase) }}
	stop := beat.run(ctx, job)
	defer stop()
	h.o.Logf("%s: building on slot %d", job.NodeID, slot+1)

	p, err := h.localPlan(job)
	if err != nil {
		return res, temporal.NewNonRetryableApplicationError(err.Error(), "job", nil)
	}
	// The host's tree must be the plan's.
	changes, err := plan.Verify(ctx, p)
	if err != nil {
		return res, err
	}
	if len(changes) > 0 {
		var cs []string
		for _, c := range changes {
			cs = append(cs, c.String())
		}
		res.OK, res.Phase = false, "setup"
		res.Err = fmt.Sprintf("build host %s: its ports tree or system differs from the plan's: %s", h.o.Name, strings.Join(cs, "; "))
		res.End = time.Now().UTC()
		return res, nil
	}
	beat.set("fetch-packages")
	if err := h.fetchPackages(ctx, job, p.Settings.PackagesDir); err != nil {
		return res, err // lost: tried on another host
	}
	logw := &logStream{}
	defer logw.close()
	if err := logw.open(ctx, h.o.HTTP, job); err != nil {
		h.o.Logf("%s: log stream: %v", job.NodeID, err)
	}
	r := execute.BuildOne(ctx, execute.OneBuild{Plan: p, NodeID: job.NodeID, Slot: slot,
		Isolator: execute.SlotIsolator(execute.SlotLayout(p)), Log: logw,
		Progress: func(phase string) { beat.set(phase); go h.postPhase(job, phase) }})
	logw.close()
	if r.Fatal != nil {
		return res, r.Fatal
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	res.OK, res.Phase, res.Err, res.Interrupted = r.OK, r.Phase, r.Err, r.Interrupted
	res.Phases, res.DepsInstalled, res.Env, res.MakeArgs = r.Phases, r.DepsInstalled, r.Env, r.MakeArgs
	res.PkgFile, res.Size, res.SHA256 = r.PkgFile, r.Size, r.SHA256
	if r.OK && r.PkgFile != "" {
		beat.set("upload")
		if err := h.upload(ctx, job, filepath.Join(p.Settings.PackagesDir, "All", r.PkgFile), r.SHA256); err != nil {
			return res, err
		}
	}
	res.End = time.Now().UTC()
	h.o.Logf("%s: ok=%v %s", job.NodeID, res.OK, res.Err)
	return res, nil
}

// localPlan is the job's plan with this host's folders.
func (h *host) localPlan(job Job) (*plan.Plan, error) {
	p, err := planfile.Unmarshal(job.Plan)
	if err != nil {
		return nil, fmt.Errorf("job %s: plan: %w", job.NodeID, err)
	}
	prof := &p.Settings
	base := h.o.BuildBase
	prof.PortsDir, prof.BuildBase = h.o.PortsDir, base
	prof.PackagesDir, prof.LogsDir = filepath.Join(base, "packages"), filepath.Join(base, "logs")
	prof.DistfilesDir, prof.OptionsDir = h.o.DistfilesDir, h.o.OptionsDir
	if prof.DistfilesDir == "" {
		prof.DistfilesDir = filepath.Join(base, "distfiles")
	}
	if prof.OptionsDir == "" {
		prof.OptionsDir = filepath.Join(base, "options")
	}
	prof.Records, prof.Hooks, prof.Repository = "", nil, nil
	prof.Workers.CCacheDir = ""
	if h.o.SystemDir != "" {
		prof.SystemDir = h.o.SystemDir
	}
	// The controller's mounts are paths of its host, not of this one.
	prof.Environment.Mounts = nil
	p.Tree.Path = h.o.PortsDir
	for _, d := range []string{prof.PackagesDir + "/All", prof.LogsDir, prof.DistfilesDir, prof.OptionsDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// fetchPackages puts every package the job installs into dir/All, from
// the package server unless a file of the same SHA-256 is there.
func (h *host) fetchPackages(ctx context.Context, job Job, dir string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for file, sum := range job.Packages {
		if strings.ContainsAny(file, "/\x00") || file == "" || file[0] == '.' {
			return fmt.Errorf("job %s: bad package name %q", job.NodeID, file)
		}
		dst := filepath.Join(dir, "All", file)
		if got, err := fileSum(dst); err == nil && got == sum {
			continue
		}
		if err := h.download(ctx, job, sum, dst); err != nil {
			return fmt.Errorf("fetch %s: %w", file, err)
		}
	}
	return nil
}

func (h *host) download(ctx context.Context, job Job, sum, dst string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", job.Server+"/farm/v1/pkg/"+url.PathEscape(sum), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+job.Token)
	resp, err := h.o.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("package server: %s", resp.Status)
	}
	tmp := dst + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	hash := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, hash), resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && hex.EncodeToString(hash.Sum(nil)) != sum {
		err = fmt.Errorf("SHA-256 %x, want %s: refused", hash.Sum(nil), sum)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}

// upload sends the built package to the controller, trying again for a
// while when it cannot be reached (a controller restarting).
func (h *host) upload(ctx context.Context, job Job, file, sum string) error {
	deadline := time.Now().Add(uploadPatience)
	for wait := 200 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		err := h.uploadOnce(ctx, job, file, sum)
		var refused *refusedError
		if err == nil || errors.As(err, &refused) || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		h.o.Logf("%s: %v; trying again in %s", job.NodeID, err, wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// uploadPatience is how long a build host keeps trying to upload.
const uploadPatience = 10 * time.Minute

// refusedError is an upload the controller answered and refused.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

func (h *host) uploadOnce(ctx context.Context, job Job, file, sum string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	req, err := http.NewRequestWithContext(ctx, "PUT", job.Server+"/farm/v1/upload/"+job.Key, f)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+job.Token)
	req.Header.Set("X-Dsynth-Sha256", sum)
	resp, err := h.o.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("upload %s: %w", filepath.Base(file), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		msg := fmt.Sprintf("upload %s: %s: %s", filepath.Base(file), resp.Status, bytes.TrimSpace(b))
		if resp.StatusCode >= 500 {
			return errors.New(msg)
		}
		return &refusedError{msg}
	}
	return nil
}

func (h *host) postPhase(job Job, phase string) {
	v := url.Values{"phase": {phase}, "host": {h.o.Name}, "abi": {h.o.ABI.String()},
		"load": {strconv.FormatFloat(execute.HostLoadPerCPU(), 'f', 2, 64)}}
	req, err := http.NewRequest("POST", job.Server+"/farm/v1/phase/"+job.Key+"?"+v.Encode(), nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+job.Token)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if resp, err := h.o.HTTP.Do(req.WithContext(ctx)); err == nil {
		resp.Body.Close()
	}
}

// beater heartbeats the build's host and phase.
type beater struct {
	mu          sync.Mutex
	host, phase string
	post        func(phase string) // tells the controller too
}

func (b *beater) set(phase string) {
	b.mu.Lock()
	b.phase = phase
	b.mu.Unlock()
}

func (b *beater) run(ctx context.Context, job Job) (stop func()) {
	every := job.Heartbeat / 4
	if every <= 0 {
		every = DefaultHeartbeat / 4
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			b.mu.Lock()
			d := Beat{Host: b.host, Phase: b.phase}
			b.mu.Unlock()
			activity.RecordHeartbeat(ctx, d)
			if b.post != nil {
				b.post(d.Phase)
			}
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}

// logStream streams the port log to the package server in one request.
type logStream struct {
	mu   sync.Mutex
	pw   *io.PipeWriter
	done chan struct{}
}

func (l *logStream) open(ctx context.Context, hc *http.Client, job Job) error {
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, "POST", job.Server+"/farm/v1/log/"+job.Key, pr)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+job.Token)
	l.pw, l.done = pw, make(chan struct{})
	go func() {
		defer close(l.done)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		pr.CloseWithError(errors.New("log stream closed"))
	}()
	return nil
}

func (l *logStream) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pw != nil {
		if _, err := l.pw.Write(b); err != nil {
			l.pw = nil // the stream is gone; the build goes on
		}
	}
	return len(b), nil
}

func (l *logStream) close() {
	l.mu.Lock()
	pw, done := l.pw, l.done
	l.pw = nil
	l.mu.Unlock()
	if pw != nil {
		pw.Close()
		<-done
	}
}

// fileSum is the hex SHA-256 of a file.
func fileSum(path string) (string, error) {
	sum, _, err := execute.FileSHA256(path)
	return sum, err
}
