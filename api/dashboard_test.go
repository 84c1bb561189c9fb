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
	// Both workers wait (a paused worker finishes its port, pkg, and takes
	// no new one) until the page is loaded and watching: how fast Chromium
	// starts must not decide what the page can see.
	for _, w := range []string{"0", "1"} {
		ts.mustOK("POST", "/api/v1/workers/"+w+"/pause", "build", nil, 200)
	}

	// A farm's state file, as a farm apply's controller writes it.
	hosts := `{"updated":"2026-12-03T07:00:00Z","hosts":[{"name":"builder-1","abi":"DragonFly-x86_64-600400","load_per_cpu":0.5,` +
		`"building":{"misc/slow":"build"},"built":3,"last_seen":"2026-12-03T07:00:00Z"}]}`
	if err := os.WriteFile(filepath.Join(ts.prof.BuildBase, "dsynth.farm.json"), []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("headless", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 1500))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 100*time.Second)
	defer cancelT()

	// Log in once; the key is kept in the session. Before that, the
	// dashboard is not shown under the key form.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.url+"/"),
		chromedp.WaitVisible("#key"),
	); err != nil {
		t.Fatalf("login page: %v", err)
	}
	if d, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#app")).display`)); err != nil || d != "none" {
		t.Errorf("the dashboard shows under the login form: display %q %v", d, err)
	}
	if err := chromedp.Do(ctx,
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

	// Watch the page: every progress text and worker phase it shows is
	// recorded by a MutationObserver in the page (no sampling), then the
	// workers go on, until the build state shows the end.
	const recorder = `(() => {
		window.__seen = {progress: {}, phases: {}};
		const note = () => {
			window.__seen.progress[document.querySelector("#progress-text").textContent] = true;
			for (const r of document.querySelectorAll("#workers tr.worker")) {
				const node = r.querySelector(".node").textContent, phase = r.querySelector(".phase").textContent;
				if (node && phase) window.__seen.phases[node + " " + phase] = true;
			}
		};
		note();
		new MutationObserver(note).observe(document.querySelector("#app"), {subtree: true, childList: true, characterData: true});
		return true;
	})()`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](recorder)); err != nil {
		t.Fatalf("install the recorder: %v", err)
	}
	for _, w := range []string{"0", "1"} {
		ts.mustOK("POST", "/api/v1/workers/"+w+"/resume", "build", nil, 200)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`["success", "failed"].includes(document.querySelector("#build-state").textContent)`,
		chromedp.WithPollingTimeout(90*time.Second))); err != nil {
		t.Fatalf("build end not shown on the page: %v", err)
	}
	type seen struct {
		Progress map[string]bool `json:"progress"`
		Phases   map[string]bool `json:"phases"`
	}
	rec, err := chromedp.Run(ctx, chromedp.Evaluate[seen](`window.__seen`))
	if err != nil {
		t.Fatal(err)
	}
	progress, phases := rec.Progress, rec.Phases
	page, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector("#build-state").textContent, document.querySelector("#conn").textContent]`))
	if err != nil || len(page) != 2 {
		t.Fatalf("read page: %v %v", page, err)
	}
	state, live := page[0], page[1]
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
	// Results with log links, the graph of the plan, the charts (drawn
	// once the end is shown: wait for them, not for a time).
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("#results a.log-link").length === 4 && document.querySelectorAll("#chart-slowest rect").length > 0`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Errorf("results and charts not drawn: %v", err)
	}
	// The graph is coloured by outcome.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`[...document.querySelectorAll("#graph .gnode")].every((g) => g.dataset.outcome === "success")`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		outs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#graph .gnode")].map((g) => g.dataset.node + "=" + g.dataset.outcome + " " + g.querySelector("rect").getAttribute("fill"))`))
		t.Errorf("graph not coloured by outcome: %v %v", err, outs)
	}
	// The build hosts and the repository the build published.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#repo-state").textContent === "published"`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Errorf("published repository not shown: %v", err)
	}
	farmPage, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[String(document.querySelector("#farm").hidden),
		document.querySelector("#hosts tbody").textContent, document.querySelector("#repo-url").textContent,
		document.querySelector("#repo-detail").textContent]`))
	if err != nil || len(farmPage) != 4 {
		t.Fatalf("read the farm and repository cards: %v %v", farmPage, err)
	}
	if farmPage[0] != "false" || !strings.Contains(farmPage[1], "builder-1") || !strings.Contains(farmPage[1], "misc/slow (build)") {
		t.Errorf("build hosts card: hidden=%s %q", farmPage[0], farmPage[1])
	}
	if !strings.HasSuffix(farmPage[2], "/.latest") || !strings.Contains(farmPage[3], "packages, unsigned") {
		t.Errorf("repository card: %q %q", farmPage[2], farmPage[3])
	}
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
