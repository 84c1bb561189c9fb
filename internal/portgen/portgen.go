package portgen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Options describe a synthetic tree. The zero value of every field but N
// has a sensible default.
type Options struct {
	N    int    // number of generated ports (ports-mgmt/pkg comes on top)
	Seed uint64 // same seed and options, same tree, byte for byte

	// MaxDeps caps a port's direct dependencies (default 12; most ports
	// get 0-5, a few more).
	MaxDeps int
	// Hubs is the fraction of ports that are popular dependencies (default
	// 0.02): they collect many dependents, like gettext or perl in real
	// trees.
	Hubs float64
	// Flavored is the fraction of flavored ports (default 0.03), each with
	// FLAVORS= f1 f2.
	Flavored float64
	// Libraries is the fraction of ports that install a shared-library
	// stand-in lib/lib<name>.so and may be LIB_DEPENDS targets (default 0.3).
	Libraries float64

	// SleepMin and SleepMax: each port sleeps a seeded random duration in
	// [SleepMin, SleepMax] in its build phase (both 0: no sleep).
	SleepMin, SleepMax time.Duration
	// Payload is the size in bytes of the data file each port installs
	// (default 64).
	Payload int
	// Ignored and Failing are fractions of ports marked IGNORE or failing
	// in their build phase (default 0).
	Ignored, Failing float64
}

// Dependency kinds as they appear in variable names.
var kinds = []string{"FETCH", "EXTRACT", "PATCH", "BUILD", "LIB", "RUN", "TEST"}

// Port is one generated port.
type Port struct {
	Origin  string   // category/name
	Name    string   // PORTNAME
	Flavors []string // empty, or f1 f2
	Library bool     // installs lib/lib<name>.so
	// Deps maps a kind (BUILD, RUN, LIB, ...) to dependency origins, with
	// @flavor when the entry names one.
	Deps    map[string][]string
	Sleep   time.Duration
	Ignored bool
	Failing bool
}

// Tree is a generated tree, in topological order (dependencies first).
type Tree struct {
	Options Options
	Ports   []Port
}

var categories = []string{
	"archivers", "audio", "databases", "devel", "devel", "devel", "editors",
	"graphics", "lang", "math", "misc", "net", "security", "shells",
	"sysutils", "textproc", "textproc", "www", "x11",
}

var words = []string{
	"alder", "birch", "cedar", "delta", "ember", "fable", "garnet", "harbor",
	"iris", "juniper", "kestrel", "lumen", "maple", "nimbus", "onyx",
	"pico", "quartz", "raven", "sierra", "tundra", "umber", "vertex",
	"willow", "xenon", "yarrow", "zephyr",
}

func (o *Options) defaults() error {
	if o.N < 1 {
		return errors.New("portgen: N must be at least 1")
	}
	if o.MaxDeps <= 0 {
		o.MaxDeps = 12
	}
	if o.Hubs == 0 {
		o.Hubs = 0.02
	}
	if o.Flavored == 0 {
		o.Flavored = 0.03
	}
	if o.Libraries == 0 {
		o.Libraries = 0.3
	}
	if o.Payload <= 0 {
		o.Payload = 64
	}
	if o.SleepMax < o.SleepMin {
		return fmt.Errorf("portgen: SleepMax %v < SleepMin %v", o.SleepMax, o.SleepMin)
	}
	return nil
}

// Build draws a tree. It is a pure function of opt.
func Build(opt Options) (*Tree, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	t := &Tree{Options: opt, Ports: make([]Port, opt.N)}
	weight := make([]float64, opt.N)
	total := 0.0
	for i := range t.Ports {
		p := &t.Ports[i]
		cat := categories[r.IntN(len(categories))]
		p.Name = fmt.Sprintf("%s%d", words[r.IntN(len(words))], i)
		p.Origin = cat + "/" + p.Name
		p.Library = r.Float64() < opt.Libraries
		if r.Float64() < opt.Flavored {
			p.Flavors = []string{"f1", "f2"}
		}
		if opt.SleepMax > 0 {
			span := int64(opt.SleepMax - opt.SleepMin)
			d := opt.SleepMin
			if span > 0 {
				d += time.Duration(r.Int64N(span + 1))
			}
			// milliseconds: what `sleep` gets
			p.Sleep = d.Truncate(time.Millisecond)
		}
		p.Deps = map[string][]string{}
		if i > 0 {
			pickDeps(r, t, i, weight, total)
		}
		// Hubs among the first third get a heavy weight: many dependents.
		w := 1.0
		if i < opt.N/3+1 && r.Float64() < opt.Hubs*3 {
			w = 40
		}
		weight[i] = w
		total += w
	}
	// Failing and ignored ports are drawn last so that the DAG does not
	// depend on these fractions.
	for i := range t.Ports {
		p := &t.Ports[i]
		p.Ignored = opt.Ignored > 0 && r.Float64() < opt.Ignored
		p.Failing = !p.Ignored && opt.Failing > 0 && r.Float64() < opt.Failing
	}
	return t, nil
}

// degree draws a direct dependency count: mostly 0-5, a tail up to max.
func degree(r *rand.Rand, max int) int {
	x := r.Float64()
	var n int
	switch {
	case x < 0.18:
		n = 0
	case x < 0.88:
		n = 1 + r.IntN(5)
	default:
		n = 6 + r.IntN(max)
	}
	return min(n, max)
}

func pickDeps(r *rand.Rand, t *Tree, i int, weight []float64, total float64) {
	p := &t.Ports[i]
	n := min(degree(r, t.Options.MaxDeps), i)
	seen := map[int]bool{}
	for tries := 0; len(seen) < n && tries < 8*n+8; tries++ {
		// weighted pick among 0..i-1 (preferential: hubs are likely)
		x := r.Float64() * total
		j := 0
		for ; j < i-1 && x >= weight[j]; j++ {
			x -= weight[j]
		}
		if seen[j] {
			continue
		}
		seen[j] = true
		d := &t.Ports[j]
		kind := pickKind(r, d.Library)
		origin := d.Origin
		if len(d.Flavors) > 0 && r.IntN(2) == 0 {
			origin += "@" + d.Flavors[r.IntN(len(d.Flavors))]
		}
		p.Deps[kind] = append(p.Deps[kind], origin)
	}
	for k := range p.Deps {
		sort.Strings(p.Deps[k])
	}
}

func pickKind(r *rand.Rand, library bool) string {
	x := r.Float64()
	switch {
	case library && x < 0.45:
		return "LIB"
	case x < 0.03:
		return "FETCH"
	case x < 0.06:
		return "EXTRACT"
	case x < 0.09:
		return "PATCH"
	case x < 0.12:
		return "TEST"
	case x < 0.68:
		return "BUILD"
	default:
		return "RUN"
	}
}

// Generate builds the tree of opt and writes it into dir.
func Generate(dir string, opt Options) error {
	t, err := Build(opt)
	if err != nil {
		return err
	}
	return t.Write(dir)
}

// Write writes the tree into dir: Mk/, ports-mgmt/pkg and every port.
func (t *Tree) Write(dir string) error {
	if err := WriteFramework(dir); err != nil {
		return err
	}
	index := make(map[string]*Port, len(t.Ports))
	for i := range t.Ports {
		index[t.Ports[i].Origin] = &t.Ports[i]
	}
	for i := range t.Ports {
		p := &t.Ports[i]
		pd := filepath.Join(dir, filepath.FromSlash(p.Origin))
		if err := os.MkdirAll(pd, 0o755); err != nil {
			return fmt.Errorf("write %s: %w", p.Origin, err)
		}
		mf := t.makefile(p, index)
		if err := os.WriteFile(filepath.Join(pd, "Makefile"), []byte(mf), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p.Origin, err)
		}
		descr := fmt.Sprintf("Synthetic port %s generated by portgen (seed %d).\n", p.Origin, t.Options.Seed)
		if err := os.WriteFile(filepath.Join(pd, "pkg-descr"), []byte(descr), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p.Origin, err)
		}
	}
	return nil
}

// installed is the file a port installs (relative to PREFIX); with a
// flavor, the flavor is part of the name.
func installed(origin, flavor string) string {
	s := "share/gen/" + origin
	if flavor != "" {
		s += "-" + flavor
	}
	return s
}

func libName(name string) string { return "lib" + name + ".so" }

func (t *Tree) makefile(p *Port, index map[string]*Port) string {
	var b strings.Builder
	cat, _, _ := strings.Cut(p.Origin, "/")
	fmt.Fprintf(&b, "# Generated by portgen (seed %d). Do not edit.\n", t.Options.Seed)
	fmt.Fprintf(&b, "PORTNAME=\t%s\n", p.Name)
	fmt.Fprintf(&b, "PORTVERSION=\t1.%d\n", len(p.Name)%7)
	fmt.Fprintf(&b, "CATEGORIES=\t%s\n", cat)
	fmt.Fprintf(&b, "COMMENT=\tSynthetic port %s\n", p.Name)
	if len(p.Flavors) > 0 {
		fmt.Fprintf(&b, "FLAVORS=\t%s\n", strings.Join(p.Flavors, " "))
		for _, f := range p.Flavors[1:] {
			fmt.Fprintf(&b, "%s_PKGNAMESUFFIX=\t-%s\n", f, f)
		}
	}
	if p.Ignored {
		b.WriteString("IGNORE=\t\tis ignored by portgen\n")
	}
	for _, k := range kinds {
		deps := p.Deps[k]
		if len(deps) == 0 {
			continue
		}
		var entries []string
		for _, d := range deps {
			o, fl, _ := strings.Cut(d, "@")
			dp := index[o]
			if fl == "" && len(dp.Flavors) > 0 {
				fl = dp.Flavors[0]
			}
			tool := "${LOCALBASE}/" + installed(o, fl)
			if k == "LIB" {
				tool = libName(dp.Name)
			}
			entries = append(entries, tool+":"+d)
		}
		fmt.Fprintf(&b, "%s_DEPENDS=\t%s\n", k, strings.Join(entries, " \\\n\t\t"))
	}
	if len(p.Flavors) > 0 {
		b.WriteString("\n.include \"${PORTSDIR}/Mk/bsd.port.options.mk\"\n")
		fmt.Fprintf(&b, "DATAFILE=\t%s\n", installed(p.Origin, "${FLAVOR}"))
	} else {
		fmt.Fprintf(&b, "DATAFILE=\t%s\n", installed(p.Origin, ""))
	}
	b.WriteString("PLIST_FILES=\t${DATAFILE}\n")
	if p.Library {
		fmt.Fprintf(&b, "PLIST_FILES+=\tlib/%s\n", libName(p.Name))
	}
	b.WriteString("\ndo-build:\n")
	if p.Sleep > 0 {
		fmt.Fprintf(&b, "\tsleep %s\n", strconv.FormatFloat(p.Sleep.Seconds(), 'f', 3, 64))
	}
	if p.Failing {
		b.WriteString("\t@echo \"portgen: this port fails on purpose\" >&2; false\n")
	}
	fmt.Fprintf(&b, "\t${MKDIR} ${WRKSRC}\n\tyes '%s ${FLAVOR}' | head -c %d > ${WRKSRC}/data\n", p.Origin, t.Options.Payload)
	b.WriteString("\ndo-install:\n")
	b.WriteString("\t${MKDIR} ${STAGEDIR}${PREFIX}/${DATAFILE:H}\n")
	b.WriteString("\t${INSTALL_DATA} ${WRKSRC}/data ${STAGEDIR}${PREFIX}/${DATAFILE}\n")
	if p.Library {
		b.WriteString("\t${MKDIR} ${STAGEDIR}${PREFIX}/lib\n")
		fmt.Fprintf(&b, "\t${INSTALL_DATA} ${WRKSRC}/data ${STAGEDIR}${PREFIX}/lib/%s\n", libName(p.Name))
	}
	b.WriteString("\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n")
	return b.String()
}

// Stats are the figures of a tree a scheduler benchmark compares with.
// They count build nodes as dsynth plans `ports = ["all"]`: the default
// flavor of every port, plus each other flavor some dependency names
// (port@f2); every node of a port has the port's dependencies and sleep.
type Stats struct {
	Nodes         int
	Edges         int
	MaxDependents int           // fan-in of the most depended-on node
	TotalWork     time.Duration // sum of the sleeps of all nodes
	CriticalPath  time.Duration // longest chain of sleeps along dependencies
}

// Stats computes the tree's figures over every dependency kind.
func (t *Tree) Stats() Stats {
	var s Stats
	index := map[string]*Port{}
	for i := range t.Ports {
		index[t.Ports[i].Origin] = &t.Ports[i]
	}
	node := func(d string) string {
		o, fl, _ := strings.Cut(d, "@")
		if fl == "" && len(index[o].Flavors) > 0 {
			fl = index[o].Flavors[0]
		}
		return o + "@" + fl
	}
	// which flavors are built: the default one and every one named
	built := map[string]bool{}
	for _, p := range t.Ports {
		built[node(p.Origin)] = true
		for _, deps := range p.Deps {
			for _, d := range deps {
				built[node(d)] = true
			}
		}
	}
	finish := map[string]time.Duration{}
	fanIn := map[string]int{}
	for _, p := range t.Ports {
		var start time.Duration
		var deps []string
		for _, kd := range p.Deps {
			for _, d := range kd {
				n := node(d)
				deps = append(deps, n)
				start = max(start, finish[n])
			}
		}
		flavors := p.Flavors
		if len(flavors) == 0 {
			flavors = []string{""}
		}
		for _, f := range flavors {
			n := p.Origin + "@" + f
			if !built[n] {
				continue
			}
			finish[n] = start + p.Sleep
			s.Nodes++
			s.Edges += len(deps)
			s.TotalWork += p.Sleep
			for _, d := range deps {
				fanIn[d]++
			}
		}
		s.CriticalPath = max(s.CriticalPath, start+p.Sleep)
	}
	for _, n := range fanIn {
		s.MaxDependents = max(s.MaxDependents, n)
	}
	return s
}

// LowerBound is the makespan no scheduler can beat with the given number of
// workers: max(critical path, total work / workers).
func (s Stats) LowerBound(workers int) time.Duration {
	if workers < 1 {
		workers = 1
	}
	return max(s.CriticalPath, s.TotalWork/time.Duration(workers))
}
