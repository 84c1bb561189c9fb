package execute

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/go-dsynth/dsynth/record"
)

// Progress displays a run. With a terminal it draws one status line per
// worker (port, phase, elapsed) above a progressbar/v3 bar (done/total,
// pkgs/hour, ETA), redrawn a few times a second; otherwise it prints one
// plain line per event, for CI logs.
type Progress struct {
	w   io.Writer
	tty bool

	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	workers map[int]*WorkerStatus
	start   time.Time
	frame   TermFrame
	last    Event
	stop    chan struct{}
	stopped chan struct{}
}

// NewProgress returns a display writing to w; tty selects the terminal
// display.
func NewProgress(w io.Writer, tty bool) *Progress {
	return &Progress{w: w, tty: tty, workers: map[int]*WorkerStatus{}}
}

// Observe is the Observer of the display.
func (p *Progress) Observe(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = e
	switch e.Kind {
	case EventRunStart:
		p.start = e.Time
		if p.tty {
			p.bar = NewTermBar(e.Total)
			p.stop, p.stopped = make(chan struct{}), make(chan struct{})
			go p.loop()
		} else {
			fmt.Fprintf(p.w, "run %s: %d ports planned\n", e.RunID, e.Total)
		}
	case EventStart:
		p.workers[e.Worker] = &WorkerStatus{Worker: e.Worker, Node: e.Node, Phase: "start", Since: e.Time}
		if !p.tty {
			fmt.Fprintf(p.w, "[%s] start    %s on worker %d\n", p.counter(e), e.Node, e.Worker)
		}
	case EventPhase:
		if ws := p.workers[e.Worker]; ws != nil {
			ws.Phase = e.Phase
		}
	case EventBuilt, EventFailed, EventSkipped, EventIgnored, EventUpToDate:
		if e.Worker >= 0 {
			delete(p.workers, e.Worker)
		}
		if p.bar != nil {
			p.bar.Set(e.Done)
		}
		line := p.eventLine(e)
		if p.tty {
			if e.Kind == EventFailed || e.Kind == EventSkipped || e.Kind == EventIgnored {
				p.clearFrame()
				fmt.Fprintln(p.w, line)
				p.draw()
			}
		} else {
			fmt.Fprintln(p.w, line)
		}
	case EventThrottle, EventRepository:
		line := fmt.Sprintf("[%s] throttle %s", p.counter(e), e.Reason)
		if e.Kind == EventRepository {
			line = fmt.Sprintf("[%s] repository %s", p.counter(e), e.Reason)
		}
		if p.tty {
			p.clearFrame()
			fmt.Fprintln(p.w, line)
			p.draw()
		} else {
			fmt.Fprintln(p.w, line)
		}
	case EventRunEnd:
		if p.tty && p.stop != nil {
			close(p.stop)
			p.mu.Unlock()
			<-p.stopped
			p.mu.Lock()
			p.clearFrame()
		}
	}
}

func (p *Progress) counter(e Event) string {
	return fmt.Sprintf("%*d/%d", len(fmt.Sprint(e.Total)), e.Done, e.Total)
}

func (p *Progress) eventLine(e Event) string {
	c := p.counter(e)
	switch e.Kind {
	case EventBuilt:
		return fmt.Sprintf("[%s] built    %s (%s, worker %d)", c, e.Node, e.Duration.Round(time.Millisecond), e.Worker)
	case EventFailed:
		if e.Worker < 0 { // never built: it failed to plan
			return fmt.Sprintf("[%s] FAILED   %s: %s", c, e.Node, e.Reason)
		}
		return fmt.Sprintf("[%s] FAILED   %s in %s phase (%s, worker %d): %s", c, e.Node, e.Phase, e.Duration.Round(time.Millisecond), e.Worker, e.Reason)
	case EventSkipped:
		return fmt.Sprintf("[%s] skipped  %s: %s", c, e.Node, strings.TrimPrefix(e.Reason, "skipped: "))
	case EventIgnored:
		return fmt.Sprintf("[%s] ignored  %s: %s", c, e.Node, e.Reason)
	case EventUpToDate:
		return fmt.Sprintf("[%s] current  %s", c, e.Node)
	}
	return ""
}

func (p *Progress) loop() {
	Redraw(&p.mu, p.stop, p.stopped, func() { p.clearFrame(); p.draw() })
}

// Redraw calls draw, holding mu, four times a second until stop is
// closed, then closes stopped: the loop of a terminal display.
func Redraw(mu *sync.Mutex, stop <-chan struct{}, stopped chan<- struct{}, draw func()) {
	defer close(stopped)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		mu.Lock()
		draw()
		mu.Unlock()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// clearFrame erases the worker lines and the bar drawn last.
func (p *Progress) clearFrame() { p.frame.Clear(p.w) }

func (p *Progress) draw() {
	if p.bar == nil {
		return
	}
	el := time.Since(p.start)
	rate := 0.0
	if el > 0 {
		rate = float64(p.last.Count.Built) / el.Hours()
	}
	p.frame.Draw(p.w, p.workers, p.bar, fmt.Sprintf("%.0f pkgs/hour  failed %d  skipped %d", rate, p.last.Count.Failed, p.last.Count.Skipped))
}

// TermFrame is the block a terminal display redraws in place: one line
// per worker (its port, phase and time in it) above the bar. The
// progress displays of apply and fetch share it.
type TermFrame struct{ lines int }

// Clear erases the block drawn last.
func (f *TermFrame) Clear(w io.Writer) {
	if f.lines == 0 {
		return
	}
	fmt.Fprintf(w, "\r\x1b[%dA\x1b[J", f.lines)
	f.lines = 0
}

// Draw writes the block: the workers by number, then the bar followed by
// extra.
func (f *TermFrame) Draw(w io.Writer, workers map[int]*WorkerStatus, bar *progressbar.ProgressBar, extra string) {
	ids := make([]int, 0, len(workers))
	for n := range workers {
		ids = append(ids, n)
	}
	sort.Ints(ids)
	var b strings.Builder
	for _, n := range ids {
		ws := workers[n]
		fmt.Fprintf(&b, "  worker %2d  %-40s %-16s %s\n", n, ws.Node, ws.Phase, time.Since(ws.Since).Round(time.Second))
	}
	// Render again: the bar computes its elapsed time and ETA only when
	// it renders, which Set alone does between completions.
	bar.RenderBlank()
	fmt.Fprintf(&b, "%s  %s\n", bar.String(), extra)
	f.lines = len(ids) + 1
	io.WriteString(w, b.String())
}

// NewTermBar is the bar of a terminal display of total items.
func NewTermBar(total int) *progressbar.ProgressBar {
	return progressbar.NewOptions(total, progressbar.OptionSetWriter(io.Discard),
		progressbar.OptionSetWidth(30), progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true), progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetRenderBlankState(true), progressbar.OptionThrottle(0))
}

// PrintSummary prints the final summary of a run.
func PrintSummary(w io.Writer, s *Summary) {
	c := s.Counts
	fmt.Fprintf(w, "\nRun %s %s in %s: %d built, %d failed, %d skipped, %d ignored, %d up to date (%.0f pkgs/hour).\n",
		s.RunID, s.Status, s.Wall.Round(time.Millisecond), c.Built, c.Failed, c.Skipped, c.Ignored, c.UpToDate, s.PkgsPerHour())
	for _, f := range s.Failed {
		fmt.Fprintf(w, "  failed:  %s\n", f)
	}
	for _, f := range s.Skipped {
		fmt.Fprintf(w, "  skipped: %s\n", f)
	}
	PrintRepository(w, s.Repository, s.RepositoryErr)
}

// PrintRepository says what a repository build published (or why not),
// with the fingerprint clients pin for a signed one.
func PrintRepository(w io.Writer, op *record.Operation, err error) {
	switch {
	case err != nil:
		fmt.Fprintf(w, "Repository NOT published: %v\n", err)
	case op == nil:
		return
	default:
		fmt.Fprintf(w, "Repository: %d packages published at %s\n", op.Count, filepath.Join(filepath.Dir(op.Path), ".latest"))
		if op.Fingerprint != "" {
			fmt.Fprintf(w, "  signed; clients pin the key by fingerprint: function: sha256, fingerprint: %s\n", op.Fingerprint)
		} else {
			fmt.Fprintln(w, "  unsigned (a repository block with signing_key or signing_command signs it)")
		}
	}
}
