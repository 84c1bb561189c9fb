package api

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium binary, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium installed (Debian: apt-get install -y chromium)")
	return ""
}

// artifactDir is where test artifacts (screenshots) are kept:
// $DSYNTH_ARTIFACTS, or a dsynth-artifacts folder in the temp dir.
func artifactDir(t *testing.T) string {
	d := os.Getenv("DSYNTH_ARTIFACTS")
	if d == "" {
		d = filepath.Join(os.TempDir(), "dsynth-artifacts")
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDashboardLive loads the dashboard in headless Chromium while a real
// build runs and checks that the progress and a worker's phase change
// live, without reloading the page.
func TestDashboardLive(t *testing.T) {
	needRoot(t)
	exe := chromium(t)
	// pkg, then libmini and unpack-helper in parallel, then minicat.
	ts := newTestServer(t, serverOpts{targets: `["misc/minicat", "archivers/unpack-helper"]`, workers: 2})
	var start buildResponse
	ts.mustOK("POST", "/api/v1/builds", "build", map[string]any{}, http.StatusCreated).data(t, &start)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("headless", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 1500))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 100*time.Second)
	defer cancelT()

	// Log in once; the key is kept in the session.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.url+"/"),
		chromedp.WaitVisible("#key"),
		chromedp.SendKeys("#key", ts.keys["read"]),
		chromedp.Click(`#login-form button[type="submit"]`),
		chromedp.WaitVisible("#app"),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	stored, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("dsynth.apikey")`))
	if err != nil || stored != ts.keys["read"] {
		t.Fatalf("key not kept in the session: %q %v", stored, err)
	}

	// Watch the page: progress texts and worker phases seen, until the
	// build state shows the end.
	progress := map[string]bool{}
	phases := map[string]bool{}
	state, live := "", ""
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		page, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector("#progress-text").textContent,
			document.querySelector("#build-state").textContent, document.querySelector("#conn").textContent,
			Array.from(document.querySelectorAll("#workers tr.worker")).map(r => r.querySelector(".node").textContent + ":" + r.querySelector(".phase").textContent).join("|")]`))
		if err != nil || len(page) != 4 {
			t.Fatalf("read page: %v %v", page, err)
		}
		text, ph := page[0], page[3]
		state, live = page[1], page[2]
		progress[text] = true
		for _, w := range strings.Split(ph, "|") {
			if node, phase, ok := strings.Cut(w, ":"); ok && node != "" && phase != "" {
				phases[node+" "+phase] = true
			}
		}
		if state == "success" || state == "failed" {
			break
		}
		time.Sleep(150 * time.Millisecond)
	}
	if state != "success" {
		t.Errorf("build state on the page: %q", state)
	}
	if live != "live" {
		t.Errorf("event stream state %q", live)
	}
	partial := false
	for p := range progress {
		partial = partial || (strings.HasSuffix(p, " / 4 ports done") && p != "4 / 4 ports done")
	}
	if !partial || !progress["4 / 4 ports done"] {
		t.Errorf("progress seen on the page (live, before and at the end): %v", progress)
	}
	if len(phases) < 4 {
		t.Errorf("worker phases seen on the page: %v", phases)
	}
	// Results with log links, the graph of the plan, the charts.
	time.Sleep(800 * time.Millisecond)
	counts, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.querySelectorAll("#results a.log-link").length,
		document.querySelectorAll("#graph .gnode").length, document.querySelectorAll("#chart-slowest rect").length]`))
	if err != nil || len(counts) != 3 {
		t.Fatal(counts, err)
	}
	links, gnodes, bars := counts[0], counts[1], counts[2]
	if links != 4 || gnodes != 4 || bars == 0 {
		t.Errorf("results log links %d, graph nodes %d, slowest bars %d", links, gnodes, bars)
	}
	// A log link streams the log into the page.
	if err := chromedp.Do(ctx,
		chromedp.Click(`#results a.log-link`),
		chromedp.WaitVisible("#log-panel"),
	); err != nil {
		t.Fatalf("log viewer: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#log-state").textContent === "success"`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("log stream did not end: %v", err)
	}
	logText, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#log").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logText, "package") {
		t.Errorf("log viewer shows %.300q", logText)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifactDir(t), "dashboard.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes); progress seen %d states, phases seen %d", shot, len(png), len(progress), len(phases))
}
