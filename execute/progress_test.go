package execute

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/schollz/progressbar/v3"
)

func TestProgress(t *testing.T) {
	evs := []Event{
		{Kind: EventRunStart, RunID: "r1", Total: 3},
		{Kind: EventStart, Node: "devel/a", Worker: 0, Total: 3},
		{Kind: EventPhase, Node: "devel/a", Worker: 0, Phase: "build"},
		{Kind: EventBuilt, Node: "devel/a", Worker: 0, Done: 1, Total: 3, Duration: 1500 * time.Millisecond},
		{Kind: EventFailed, Node: "devel/b", Worker: 1, Phase: "configure", Reason: "configure phase: exit status 1", Done: 2, Total: 3},
		{Kind: EventSkipped, Node: "x/c", Worker: -1, Reason: "skipped: devel/b failed in configure phase", Done: 3, Total: 3},
		{Kind: EventRunEnd, Worker: -1, Done: 3, Total: 3},
	}
	var plain bytes.Buffer
	p := NewProgress(&plain, false)
	for _, e := range evs {
		e.Time = time.Now()
		p.Observe(e)
	}
	want := "run r1: 3 ports planned\n" +
		"[0/3] start    devel/a on worker 0\n" +
		"[1/3] built    devel/a (1.5s, worker 0)\n" +
		"[2/3] FAILED   devel/b in configure phase (0s, worker 1): configure phase: exit status 1\n" +
		"[3/3] skipped  x/c: devel/b failed in configure phase\n"
	if plain.String() != want {
		t.Errorf("plain progress:\n%s\nwant:\n%s", plain.String(), want)
	}

	var tty bytes.Buffer
	p = NewProgress(&tty, true)
	for i, e := range evs {
		e.Time = time.Now()
		p.Observe(e)
		if i == 2 {
			time.Sleep(300 * time.Millisecond) // let a frame be drawn
		}
	}
	out := tty.String()
	for _, s := range []string{"worker  0  devel/a", "build", "pkgs/hour", "FAILED   devel/b", "\x1b[J"} {
		if !strings.Contains(out, s) {
			t.Errorf("tty output lacks %q:\n%q", s, out)
		}
	}
}

// TestProgressClockMoves: the terminal bar's elapsed time moves between
// port completions (it used to freeze until the next port ended).
func TestProgressClockMoves(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, false)
	p.tty = true
	p.bar = progressbar.NewOptions(10, progressbar.OptionSetWriter(io.Discard), progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true), progressbar.OptionSetElapsedTime(true), progressbar.OptionThrottle(0))
	p.start = time.Now()
	p.bar.Set(1)
	p.draw()
	first := buf.String()
	time.Sleep(1100 * time.Millisecond) // wall time must pass for the clock to show it
	buf.Reset()
	p.draw()
	if second := buf.String(); first == second || !strings.Contains(second, "[1s:") {
		t.Errorf("the bar did not move in 1.1 s:\n%q\n%q", first, second)
	}
}
