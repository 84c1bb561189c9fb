package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/go-dsynth/dsynth/internal/portgen"
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
	chromium(t) // skip early when there is no Chromium
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

	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromiumOptions(t, 1280, 1500)...)
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

// wideTree writes a ports tree of n ports, most of them in one layer of
// the dependency graph: every tenth port and the last two are built (the
// last one fails), and those after the first depend on the first (a second
// layer); the others are IGNOREd (nothing to build), so that the graph
// shows several outcomes.
func wideTree(t *testing.T, n int) (dir string, origins []string) {
	t.Helper()
	tree := &portgen.Tree{Options: portgen.Options{N: n, Seed: 1, Payload: 64}}
	for i := range n {
		name := fmt.Sprintf("wide-port-%02d", i)
		origin := []string{"misc", "textproc", "devel"}[i%3] + "/" + name
		built := i%10 == 0 || i >= n-2
		p := portgen.Port{Origin: origin, Name: name, Deps: map[string][]string{}, Ignored: !built, Failing: i == n-1}
		if built && i > 0 {
			p.Deps["BUILD"] = []string{origins[0]}
		}
		tree.Ports = append(tree.Ports, p)
		origins = append(origins, origin)
	}
	dir = t.TempDir()
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir, origins
}

// TestDashboardWideGraph loads the dashboard at 1280x800 (scrollbars
// shown, as on a desktop) after a build of a wide plan (43 nodes in one
// layer of the dependency graph, far wider than the page) and checks that
// the whole graph fits the width of its card: nothing lies to the right of
// what the card shows (scrollbars are not always visible, and a mouse wheel
// does not scroll sideways), and every node, scrolled into view
// vertically, is inside the graph's box and the viewport and is what the
// browser finds at its centre (not clipped or covered). Labels keep a
// legible size, the page never scrolls sideways, every node is below its
// dependencies, and the nodes are coloured by the build's outcomes with
// the legend's colours. A narrower window lays the graph out again.
func TestDashboardWideGraph(t *testing.T) {
	needRoot(t)
	chromium(t) // skip before the build when there is none
	const n = 48
	ports, origins := wideTree(t, n)
	targets, _ := json.Marshal(origins)
	ts := newTestServer(t, serverOpts{portsDir: ports, targets: string(targets), workers: 2})
	el := dialEvents(t, ts, "read")
	var start buildResponse
	ts.mustOK("POST", "/api/v1/builds", "build", map[string]any{}, http.StatusCreated).data(t, &start)
	el.wait(t, 90*time.Second, 0, "end of the build", func(e Event) bool {
		return e.RunID == start.RunID && (e.Type == "build.completed" || e.Type == "build.failed")
	})
	var b struct {
		Ports []nodeResult `json:"ports"`
	}
	ts.mustOK("GET", "/api/v1/builds/"+start.RunID, "read", nil, 200).data(t, &b)
	outcomes := map[string]string{}
	for _, p := range b.Ports {
		outcomes[p.Node] = p.Status
	}
	if len(outcomes) != n+1 || outcomes[origins[0]] != "success" || outcomes[origins[1]] != "ignored" || outcomes[origins[n-1]] != "failed" {
		t.Fatalf("outcomes of the wide build: %v", outcomes)
	}
	var pg struct {
		Graph struct {
			Edges []struct {
				From string `json:"from"`
				To   string `json:"to"`
			} `json:"edges"`
		} `json:"graph"`
	}
	ts.mustOK("GET", "/api/v1/plans/"+start.PlanDigest+"?format=graph", "read", nil, 200).data(t, &pg)
	if len(pg.Graph.Edges) < 6 {
		t.Fatalf("edges of the wide plan: %+v", pg.Graph.Edges)
	}
	edges, _ := json.Marshal(pg.Graph.Edges)

	ctx := openDashboard(t, ts, 1280, 800, chromedp.Flag("hide-scrollbars", false))
	// The graph is drawn and coloured by outcome (wait for it, not for a
	// time).
	want, _ := json.Marshal(outcomes)
	colored := fmt.Sprintf(`(() => { const want = %s, g = [...document.querySelectorAll("#graph .gnode")];
		return g.length === Object.keys(want).length && g.every((x) => x.dataset.outcome === want[x.dataset.node]); })()`, want)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](colored, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		outs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#graph .gnode")].map((g) => g.dataset.node + "=" + g.dataset.outcome)`))
		t.Fatalf("graph not drawn and coloured by outcome: %v %v", err, outs)
	}

	type geometry struct {
		Nodes        int      `json:"nodes"`
		InnerWidth   float64  `json:"innerWidth"`
		PageScroll   float64  `json:"pageScrollWidth"`
		WrapClient   float64  `json:"wrapClientWidth"`
		WrapScroll   float64  `json:"wrapScrollWidth"`
		WrapRight    float64  `json:"wrapRight"`
		Hidden       []string `json:"hidden"`
		Small        []string `json:"small"`
		Sideways     []string `json:"sideways"`
		Order        []string `json:"order"`
		Fills        []string `json:"fills"`
		Legend       []string `json:"legend"`
		LegendHidden bool     `json:"legendHidden"`
	}
	// Every node in turn is scrolled into view (as a user scrolls the page
	// or the graph down to it); then it must be inside the graph's visible
	// box and the viewport, and be what the browser finds at its centre.
	measure := `((edges) => {
		const wrap = document.querySelector("#graph-wrap"), nodes = [...document.querySelectorAll("#graph .gnode")];
		const de = document.documentElement;
		wrap.scrollLeft = 0;
		const out = {nodes: nodes.length, innerWidth: window.innerWidth, pageScrollWidth: de.scrollWidth,
			wrapClientWidth: wrap.clientWidth, wrapScrollWidth: wrap.scrollWidth, wrapRight: wrap.getBoundingClientRect().right,
			hidden: [], small: [], sideways: [], order: [], fills: [], legend: [], legendHidden: false};
		const rect = {};
		for (const g of nodes) {
			g.scrollIntoView({block: "center", inline: "nearest"});
			const r = g.querySelector("rect").getBoundingClientRect(), w = wrap.getBoundingClientRect();
			const box = {left: w.left + wrap.clientLeft, top: w.top + wrap.clientTop};
			box.right = box.left + wrap.clientWidth; box.bottom = box.top + wrap.clientHeight;
			const cx = r.left + r.width / 2, cy = r.top + r.height / 2, hit = document.elementFromPoint(cx, cy);
			const inside = r.width > 0 && r.left >= box.left - 0.5 && r.right <= box.right + 0.5 && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5 &&
				r.left >= 0 && r.right <= window.innerWidth && r.top >= 0 && r.bottom <= window.innerHeight;
			if (!inside || !hit || !g.contains(hit)) out.hidden.push(g.dataset.node + " at " + [r.left, r.top, r.right, r.bottom].map(Math.round).join(",") +
				" box " + [box.left, box.top, box.right, box.bottom].map(Math.round).join(",") + " hit " + (hit ? hit.tagName + "#" + hit.id : "none"));
			const tr = g.querySelector("text").getBoundingClientRect();
			if (tr.height < 10) out.small.push(g.dataset.node + " label " + tr.height.toFixed(1) + "px high");
			if (window.scrollX !== 0 || wrap.scrollLeft !== 0 || de.scrollWidth > window.innerWidth)
				out.sideways.push(g.dataset.node + ": page scrollX " + window.scrollX + " scrollWidth " + de.scrollWidth + ", graph scrollLeft " + wrap.scrollLeft);
			out.fills.push(getComputedStyle(g.querySelector("rect")).fill);
			rect[g.dataset.node] = {top: r.top + wrap.scrollTop + window.scrollY, bottom: r.bottom + wrap.scrollTop + window.scrollY};
		}
		for (const e of edges) {
			const a = rect[e.from], b = rect[e.to];
			if (a && b && !(b.bottom <= a.top)) out.order.push(e.from + " (top " + Math.round(a.top) + ") is not below its dependency " + e.to + " (bottom " + Math.round(b.bottom) + ")");
		}
		const lg = document.querySelector("#graph-legend");
		lg.scrollIntoView({block: "center"});
		const lr = lg.getBoundingClientRect();
		out.legendHidden = lr.width === 0 || lr.left < 0 || lr.right > window.innerWidth;
		out.legend = [...lg.querySelectorAll("i")].map((i) => getComputedStyle(i).backgroundColor);
		return out;
	})(` + string(edges) + `)`
	check := func(vw int64) {
		t.Helper()
		g, err := chromedp.Run(ctx, chromedp.Evaluate[geometry](measure))
		if err != nil {
			t.Fatalf("measure the graph: %v", err)
		}
		t.Logf("%d px wide: %d graph nodes, page scrollWidth %.0f of %.0f, graph box %.0f px wide, its content %.0f px, right edge %.0f",
			vw, g.Nodes, g.PageScroll, g.InnerWidth, g.WrapClient, g.WrapScroll, g.WrapRight)
		if g.Nodes != n+1 {
			t.Errorf("graph nodes %d, want %d", g.Nodes, n+1)
		}
		if g.PageScroll > g.InnerWidth || g.WrapRight > g.InnerWidth {
			t.Errorf("the page is wider than the viewport: scrollWidth %.0f, graph box right edge %.0f, viewport %.0f", g.PageScroll, g.WrapRight, g.InnerWidth)
		}
		if g.WrapScroll > g.WrapClient {
			t.Errorf("the graph is %.0f px wide, its box shows %.0f: the rest is cut off on the right", g.WrapScroll, g.WrapClient)
		}
		for _, s := range g.Sideways {
			t.Errorf("scrolled sideways to show %s", s)
		}
		for _, s := range g.Hidden {
			t.Errorf("graph node not visible: %s", s)
		}
		for _, s := range g.Small {
			t.Errorf("graph label not legible: %s", s)
		}
		for _, s := range g.Order {
			t.Errorf("graph layers: %s", s)
		}
		if g.LegendHidden {
			t.Error("the legend is not in the viewport")
		}
		legend := map[string]bool{}
		for _, c := range g.Legend {
			legend[c] = true
		}
		for i, f := range g.Fills {
			if !legend[f] {
				t.Errorf("graph node %d is filled %s, not a colour of the legend %v", i, f, g.Legend)
			}
		}
	}
	check(1280)
	png, err := chromedp.Run(ctx, chromedp.Screenshot("#graph-wrap"))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifactDir(t), "dashboard-wide-graph.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)

	// A narrower window: the graph is laid out again to its new width
	// (wait for that, then check it all again).
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(800, 800)); err != nil {
		t.Fatal(err)
	}
	fits := `(() => { const w = document.querySelector("#graph-wrap"); return w.clientWidth < 800 && w.scrollWidth <= w.clientWidth; })()`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fits, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the graph is not laid out again for a narrower window: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](colored, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the graph laid out again is not coloured by outcome: %v", err)
	}
	check(800)
}
