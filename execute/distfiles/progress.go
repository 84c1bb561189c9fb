package distfiles

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
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
	workers map[int]*workerLine
	lines   int
	failed  int
	stop    chan struct{}
	stopped chan struct{}
}

type workerLine struct {
	id, phase string
	since     time.Time
}

// NewProgress returns a display writing to w; tty selects the terminal
// display.
func NewProgress(w io.Writer, tty bool) *Progress {
	return &Progress{w: w, tty: tty, workers: map[int]*workerLine{}}
}

// Observe is the Options.Observe of the display.
func (p *Progress) Observe(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case EventStart:
		if p.tty {
			p.bar = progressbar.NewOptions(e.Total, progressbar.OptionSetWriter(io.Discard),
				progressbar.OptionSetWidth(30), progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true), progressbar.OptionSetElapsedTime(true),
				progressbar.OptionSetRenderBlankState(true), progressbar.OptionThrottle(0))
			p.stop, p.stopped = make(chan struct{}), make(chan struct{})
			go p.loop()
		} else {
			fmt.Fprintf(p.w, "fetch: %d ports with distfiles to check\n", e.Total)
		}
	case EventPort:
		p.workers[e.Worker] = &workerLine{id: e.ID, phase: "start", since: e.Time}
	case EventPhase:
		if wl := p.workers[e.Worker]; wl != nil {
			wl.phase = e.Phase
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
	defer close(p.stopped)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		p.mu.Lock()
		p.clearFrame()
		p.draw()
		p.mu.Unlock()
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
	}
}

func (p *Progress) clearFrame() {
	if p.lines == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[%dA\x1b[J", p.lines)
	p.lines = 0
}

func (p *Progress) draw() {
	if p.bar == nil {
		return
	}
	ids := make([]int, 0, len(p.workers))
	for w := range p.workers {
		ids = append(ids, w)
	}
	sort.Ints(ids)
	var b strings.Builder
	for _, w := range ids {
		wl := p.workers[w]
		fmt.Fprintf(&b, "  worker %2d  %-40s %-16s %s\n", w, wl.id, wl.phase, time.Since(wl.since).Round(time.Second))
	}
	fmt.Fprintf(&b, "%s  failed %d\n", p.bar.String(), p.failed)
	p.lines = len(ids) + 1
	io.WriteString(p.w, b.String())
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
