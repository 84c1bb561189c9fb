package distfiles

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/go-dsynth/dsynth/execute"
)

// Progress displays a fetch as execute.Progress displays a run: with a
// terminal, one status line per worker (port, target, elapsed) above a
// progressbar/v3 bar, redrawn a few times a second, failures printed
// above it as they happen; otherwise one plain line per port, for logs.
type Progress struct {
	w   io.Writer
	tty bool

	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	workers map[int]*execute.WorkerStatus
	frame   execute.TermFrame
	failed  int
	stop    chan struct{}
	stopped chan struct{}
}

// NewProgress returns a display writing to w; tty selects the terminal
// display.
func NewProgress(w io.Writer, tty bool) *Progress {
	return &Progress{w: w, tty: tty, workers: map[int]*execute.WorkerStatus{}}
}

// Observe is the Options.Observe of the display.
func (p *Progress) Observe(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case EventStart:
		if p.tty {
			p.bar = execute.NewTermBar(e.Total)
			p.stop, p.stopped = make(chan struct{}), make(chan struct{})
			go p.loop()
		} else {
			fmt.Fprintf(p.w, "fetch: %d ports with distfiles to check\n", e.Total)
		}
	case EventPort:
		p.workers[e.Worker] = &execute.WorkerStatus{Worker: e.Worker, Node: e.ID, Phase: "start", Since: e.Time}
	case EventPhase:
		if wl := p.workers[e.Worker]; wl != nil {
			wl.Phase = e.Phase
		}
	case EventDone:
		delete(p.workers, e.Worker)
		if e.Port.Status == Failed {
			p.failed++
		}
		if p.bar != nil {
			p.bar.Set(e.Done)
		}
		line := portLine(e)
		if !p.tty {
			fmt.Fprintln(p.w, line)
		} else if e.Port.Status == Failed {
			p.clearFrame()
			fmt.Fprintln(p.w, line)
			p.draw()
		}
	case EventEnd:
		if p.tty && p.stop != nil {
			close(p.stop)
			p.mu.Unlock()
			<-p.stopped
			p.mu.Lock()
			p.clearFrame()
		}
	}
}

func portLine(e Event) string {
	c := fmt.Sprintf("%*d/%d", len(fmt.Sprint(e.Total)), e.Done, e.Total)
	r := e.Port
	d := r.Duration.Round(time.Millisecond)
	switch r.Status {
	case Fetched:
		return fmt.Sprintf("[%s] fetched  %s (%s, %s, worker %d)", c, r.ID, FormatBytes(r.Bytes), d, r.Worker)
	case Present:
		return fmt.Sprintf("[%s] present  %s (%s, worker %d)", c, r.ID, d, r.Worker)
	}
	return fmt.Sprintf("[%s] FAILED   %s: %s", c, r.ID, r.Reason)
}

func (p *Progress) loop() {
	execute.Redraw(&p.mu, p.stop, p.stopped, func() { p.clearFrame(); p.draw() })
}

func (p *Progress) clearFrame() { p.frame.Clear(p.w) }

func (p *Progress) draw() {
	if p.bar != nil {
		p.frame.Draw(p.w, p.workers, p.bar, fmt.Sprintf("failed %d", p.failed))
	}
}

// PrintResult prints the summary of a fetch: the counts, the bytes
// downloaded, and each failed port with its reason and the last lines of
// its output.
func PrintResult(w io.Writer, r *Result) {
	fmt.Fprintf(w, "\nFetch: %d fetched (%s), %d already present, %d failed, %d skipped; %d ports have no distfiles.\n",
		r.Count(Fetched), FormatBytes(r.Bytes()), r.Count(Present), r.Count(Failed), r.Count(Skipped), r.NoDistfiles)
	for i := range r.Ports {
		pr := &r.Ports[i]
		switch pr.Status {
		case Failed:
			fmt.Fprintf(w, "  failed:  %s: %s\n", pr.ID, pr.Reason)
			for _, l := range pr.Output {
				fmt.Fprintf(w, "           | %s\n", l)
			}
			if pr.LogPath != "" {
				fmt.Fprintf(w, "           log: %s\n", pr.LogPath)
			}
		case Skipped:
			fmt.Fprintf(w, "  skipped: %s: %s\n", pr.ID, pr.Reason)
		}
	}
}

// FormatBytes shows a size in bytes, kB, MB or GB (powers of 1000).
func FormatBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}
