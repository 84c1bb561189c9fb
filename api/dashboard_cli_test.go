package api

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/internal/buildtest"
	"github.com/go-dsynth/dsynth/record"
)

// chromiumOptions are how the tests run headless Chromium at w x h: its
// temporary files (the singleton socket directory it leaves when killed)
// go to a folder of the test, removed with it.
func chromiumOptions(t *testing.T, w, h int) []chromedp.ExecAllocatorOption {
	t.Helper()
	exe := chromium(t)
	return append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("headless", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(w, h), chromedp.Env("TMPDIR="+t.TempDir()))
}

// openDashboard starts headless Chromium (stopped with the test) at w x h
// on the served dashboard, logged in with the read key.
func openDashboard(t *testing.T, ts *testServer, w, h int, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), append(chromiumOptions(t, w, h), extra...)...)
	t.Cleanup(cancelA)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(cancelC)
	ctx, cancelT := context.WithTimeout(ctx, 100*time.Second)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(int64(w), int64(h)),
		chromedp.Navigate(ts.url+"/"),
		chromedp.WaitVisible("#key"),
		chromedp.SendKeys("#key", ts.keys["read"]),
		chromedp.Click(`#login-form button[type="submit"]`),
		chromedp.WaitVisible("#app"),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	return ctx
}

// TestDashboardFollowsCLIRun: a run serve did not start (a CLI apply:
// an execute.Session on the served build base, in this process) is shown
// live on the dashboard in Chromium with the numbers of the run itself:
// held in the middle of a port's build phase, the page shows the run
// running, that port and phase on its worker and a partial progress with
// the counts so far (not a full bar, not zero counts); at the end, the
// full progress and the counts of the run record, also in the recent
// builds.
func TestDashboardFollowsCLIRun(t *testing.T) {
	needRoot(t)
	// pkg, then libmini and unpack-helper, then minicat.
	ts := newTestServer(t, serverOpts{targets: `["misc/minicat", "archivers/unpack-helper"]`, workers: 2})
	ctx := openDashboard(t, ts, 1280, 1500)
	// Every progress text the page shows is noted (no sampling).
	const recorder = `(() => {
		window.__progress = {};
		const note = () => { window.__progress[document.querySelector("#progress-text").textContent] = true; };
		note();
		new MutationObserver(note).observe(document.querySelector("#app"), {subtree: true, childList: true, characterData: true});
		return true;
	})()`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](recorder)); err != nil {
		t.Fatalf("install the recorder: %v", err)
	}

	p, sess := cliRun(t, ts)
	// The first port to enter its build phase after pkg is held there
	// (the live status file is written before observers hear an event)
	// until the page has shown it.
	held := make(chan execute.Event, 1)
	release := make(chan struct{})
	holding := false
	observe := func(e execute.Event) {
		if e.Kind == execute.EventPhase && e.Phase == "build" && e.Node != p.PkgNode && !holding {
			holding = true
			held <- e
			<-release
		}
	}
	done := make(chan *execute.Summary, 1)
	go func() {
		sum, err := sess.Apply(context.Background(), execute.Options{Plan: buildtest.PlanFile(t, p),
			Isolator: execute.SlotIsolator(execute.SlotLayout(p)), Observers: []execute.Observer{observe}})
		if err != nil {
			t.Error(err)
		}
		done <- sum
	}()
	var h execute.Event
	select {
	case h = <-held:
	case sum := <-done:
		t.Fatalf("the run ended before a port was held: %+v", sum)
	}
	mid := fmt.Sprintf(`(() => {
		const rows = [...document.querySelectorAll("#workers tr.worker")].map((r) => r.querySelector(".node").textContent + " " + r.querySelector(".phase").textContent);
		return document.querySelector("#build-state").textContent === "running" &&
			document.querySelector("#progress-text").textContent === "%d / %d ports done" &&
			rows.includes(%q);
	})()`, h.Done, h.Total, h.Node+" build")
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](mid, chromedp.WithPollingTimeout(30*time.Second)))
	page, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector("#build-state").textContent,
		document.querySelector("#progress-text").textContent, document.querySelector("#counts").textContent,
		document.querySelector("#workers tbody").textContent]`))
	close(release)
	if err != nil {
		t.Fatalf("mid-run (held: %s in build, %d / %d done, counts %+v): the page shows %q (%v)", h.Node, h.Done, h.Total, h.Count, page, err)
	}
	if h.Done == 0 || h.Done >= h.Total || !strings.Contains(page[2], fmt.Sprintf("built: %d", h.Count.Built)) {
		t.Errorf("mid-run: held at %d / %d with counts %+v, the page's counts %q", h.Done, h.Total, h.Count, page[2])
	}
	sum := <-done
	if sum == nil || sum.Status != record.RunSuccess {
		t.Fatalf("CLI run: %+v", sum)
	}
	end := fmt.Sprintf(`(() => document.querySelector("#build-state").textContent === "success" &&
		window.__progress["%d / %d ports done"] === true &&
		[...document.querySelectorAll("#history tbody tr")].some((r) => r.textContent.includes(%q) && r.cells[4].textContent === "%d"))()`,
		len(p.Ports), len(p.Ports), sum.RunID[:8], sum.Counts.Built)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](end, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector("#build-state").textContent,
			JSON.stringify(window.__progress), document.querySelector("#history tbody").textContent]`))
		t.Fatalf("end of the CLI run %s (counts %+v): the page shows %q (%v)", sum.RunID, sum.Counts, page, err)
	}
}
