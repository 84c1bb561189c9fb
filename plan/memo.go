package plan

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-dsynth/dsynth/plan/portscan"
)

// The plan memo (docs/plan.md, "The plan memo") lets a re-plan of an
// unchanged tree reuse the last plan of its profile: every file,
// directory and records entry the plan was made from is listed with its
// stat signature and content hash, and a re-plan whose settings,
// environment and records match re-stats them instead of loading every
// port. A file whose signature changed, or was too recent to be trusted,
// is read again and compared by content.

// memoVersion changes whenever what a memo holds, or what Create makes
// of it, changes.
const memoVersion = "dsynth-planmemo-2"

// memoMagic starts every memo file.
var memoMagic = [8]byte{'d', 's', 'y', 'n', 'p', 'm', 'm', '1'}

// racySlack is how long before a plan started a file must have last
// changed for its stat signature alone to vouch for its content later: a
// file changed within its file system's timestamp granularity of the
// plan reading it could change again with the same signature. Younger
// entries are marked racy and read again by content on reuse (as git
// does with its index).
const racySlack = 2 * time.Second

// rewriteAfter is how many units a reuse must have read again to write
// the memo again with their signatures as they are now. Writing it costs
// about what reading a few hundred port directories does, so a reuse
// that read a few reads them again next time instead.
var rewriteAfter = 64

// memoNow is the clock of the racy checks (tests move it).
var memoNow = time.Now

// memoEnv selects the memo: "" uses it, "off" never does, "check" also
// makes a fresh plan on every reuse and fails when the two differ (the
// tests run with it).
const memoEnv = "DSYNTH_PLAN_MEMO"

// fileSig is what a stat says of a path; Mode 0 means it does not exist.
type fileSig struct {
	Dev, Ino     uint64
	Mode         uint32
	Size         int64
	Mtime, Ctime int64
}

// racy reports whether s changed too recently (at or after bound, in
// Unix nanoseconds) to vouch for the content read.
func (s fileSig) racy(bound int64) bool {
	return s.Mode != 0 && (s.Mtime >= bound || s.Ctime >= bound)
}

// unitKind says what a memo unit stands for and how its content is
// compared again.
type unitKind byte

const (
	// unitPort is a port directory (Label is its origin): Hash is
	// hashDir's SHA256; Names what it read.
	unitPort unitKind = 'p'
	// unitFile is a file hashed whole (an options file, a package): Hash
	// is its hex SHA-256, "" when it does not exist.
	unitFile unitKind = 'f'
	// unitExternal is an external input (externalHash; a directory when
	// Path ends in a separator, then with its Names).
	unitExternal unitKind = 'x'
	// unitStat is a path whose kind alone matters (a Makefile found
	// missing, or found): Hash is statKind's.
	unitStat unitKind = 's'
	// unitListing is the list of a tree's ports (listPorts): Hash is
	// the hash of the list, Names the directories it read and the
	// Makefiles it did not find, relative to Path.
	unitListing unitKind = 'l'
	// unitInputs is a records lookup of input components: Path is the
	// input key, Hash "1" when they were stored.
	unitInputs unitKind = 'i'
)

// memoUnit is one thing a plan was made from.
type memoUnit struct {
	Kind unitKind
	// Path is the file or directory (the input key of unitInputs); ""
	// for unitPort, whose directory and options file follow from Label.
	Path string
	// Label is unitPort's origin (hashDir's label).
	Label string
	// Names are what a directory's hash or listing read besides the
	// directory itself, relative to it, one per line.
	Names string
	// Sum is the digest of the stat signatures of everything the unit
	// read (sigSum); Racy says one of them changed too close to the plan
	// to vouch for its content.
	Sum  [16]byte
	Racy bool
	// Hash is the content hash the plan used; OptHash is unitPort's
	// options file hash ("" when there is none).
	Hash, OptHash string
}

// memoLoad is a port load of the plan: what load returned besides the
// node (which is the plan's node of ID, before the plan's own fields),
// and the external inputs its scan read (unitExternal paths). A later
// plan with the same load key takes it instead of loading the port when
// the port's unit and those inputs are unchanged.
type memoLoad struct {
	// Origin and Flavor are the request; ID the node it made.
	Origin, Flavor, ID string
	Flavors            []string
	Bad                []BadDependError
	// Deps and Ext are the dependencies and external inputs while the
	// plan is made; a memo file holds them as PackedDeps (packDeps) and
	// ExtUnits (the indexes of their units), which decode into a few
	// values instead of several per dependency.
	Deps       []portscan.Dep
	Ext        []string
	PackedDeps string
	ExtUnits   []int32
}

// packDeps packs dependencies into one string: each one's variable,
// origin and flavor, length-prefixed.
func packDeps(deps []portscan.Dep) string {
	var b []byte
	for _, d := range deps {
		for _, f := range []string{d.Var, d.Ref.Origin, d.Ref.Flavor} {
			b = binary.AppendUvarint(b, uint64(len(f)))
			b = append(b, f...)
		}
	}
	return string(b)
}

// unpackDeps is packDeps undone, each string through intern (nil: only
// check s); ok is false when s is not a packDeps string.
func unpackDeps(s string, intern func(string) string) (deps []portscan.Dep, ok bool) {
	var f [3]string
	for len(s) > 0 {
		for i := range f {
			n, k := binary.Uvarint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
			if k <= 0 || uint64(len(s)-k) < n {
				return nil, false
			}
			f[i], s = s[k:k+int(n)], s[k+int(n):]
		}
		if intern != nil {
			deps = append(deps, portscan.Dep{Var: intern(f[0]), Ref: portscan.Ref{Origin: intern(f[1]), Flavor: intern(f[2])}})
		}
	}
	return deps, true
}

// memoNames are a node's planning-only names (Node.Recipe and Files).
type memoNames struct{ Recipe, Files string }

// memoHead is the first value of a memo file. Key identifies the whole
// plan's inputs but for its units, LoadKey those of its loads.
type memoHead struct {
	Version      string
	Key, LoadKey string
	Parts        []keyPart
	Units        int
	Nodes        int
	Loads        int
	PkgNode      string
	Order        []string
	Stats        Stats
}

// observer collects the units and loads of the plan being made (nil:
// not memoizing), each written at once to a spill list (a large tree's
// would otherwise hold tens of MB while it plans); bad is set when
// something the plan saw cannot be vouched for by its inputs (a make run
// or a read failed: it may not fail again).
type observer struct {
	mu    sync.Mutex
	units spillList[memoUnit]
	loads spillList[memoLoad]
	// ports are the origins of the unitPort units (one per origin).
	ports map[string]bool
	bad   atomic.Bool
}

// newObserver returns an observer spilling into dir (else TMPDIR).
func newObserver(dir string) *observer {
	return &observer{units: spillList[memoUnit]{dir: dir}, loads: spillList[memoLoad]{dir: dir}, ports: map[string]bool{}}
}

func (o *observer) add(u memoUnit) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if u.Kind == unitPort {
		if o.ports[u.Label] {
			return
		}
		o.ports[u.Label] = true
	}
	o.units.add(u)
}

// load adds a port load.
func (o *observer) load(l memoLoad) {
	if o == nil {
		return
	}
	o.mu.Lock()
	o.loads.add(l)
	o.mu.Unlock()
}

// close releases the spill files.
func (o *observer) close() {
	if o != nil {
		o.units.close()
		o.loads.close()
	}
}

// spillList is a list of values written one by one to an unlinked
// temporary file and read back in order.
type spillList[T any] struct {
	dir string
	f   *os.File
	bw  *bufio.Writer
	enc *gob.Encoder
	n   int
	err error
}

func (l *spillList[T]) add(x T) {
	if l.err != nil {
		return
	}
	if l.f == nil {
		if l.f, l.err = spillFile(l.dir); l.err != nil {
			return
		}
		l.bw = bufio.NewWriterSize(l.f, 1<<16)
		l.enc = gob.NewEncoder(l.bw)
	}
	if l.err = l.enc.Encode(&x); l.err == nil {
		l.n++
	}
}

// seq is the list read back (once its writing is over).
func (l *spillList[T]) seq() seq[T] {
	return seq[T]{n: l.n, each: func(fn func(T) error) error {
		if l.err != nil || l.n == 0 {
			return l.err
		}
		if err := l.bw.Flush(); err != nil {
			return err
		}
		if _, err := l.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		dec := gob.NewDecoder(bufio.NewReaderSize(l.f, 1<<16))
		for i := 0; i < l.n; i++ {
			var x T
			if err := dec.Decode(&x); err != nil {
				return err
			}
			if err := fn(x); err != nil {
				return err
			}
		}
		return nil
	}}
}

func (l *spillList[T]) close() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
		l.err = os.ErrClosed
	}
}

// spillFile makes an unlinked temporary file in dir, else in TMPDIR.
func spillFile(dir string) (*os.File, error) {
	var f *os.File
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		f, err = os.CreateTemp(dir, ".memo-spill-*")
	}
	if err != nil {
		if f, err = os.CreateTemp("", "dsynth-memo-spill-*"); err != nil {
			return nil, err
		}
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// seq is a sequence of n values.
type seq[T any] struct {
	n    int
	each func(fn func(T) error) error
}

func sliceSeq[T any](s []T) seq[T] {
	return seq[T]{n: len(s), each: func(fn func(T) error) error {
		for _, x := range s {
			if err := fn(x); err != nil {
				return err
			}
		}
		return nil
	}}
}

// stat adds a unitStat of p.
func (o *observer) stat(p string) {
	if o != nil {
		o.add(memoUnit{Kind: unitStat, Path: p, Hash: statKind(p)})
	}
}

// statKind is what p is, as the planner's checks see it (following
// links): "-" nothing, "d" a directory, "f" a regular file, "o" other.
func statKind(p string) string {
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		return "-"
	case fi.IsDir():
		return "d"
	case fi.Mode().IsRegular():
		return "f"
	}
	return "o"
}

// fail says the plan being made is not to be memoized.
func (o *observer) fail() {
	if o != nil {
		o.bad.Store(true)
	}
}

// memo is the memo file of a profile and the keys a plan must match to
// reuse it (key) or its loads (loadKey).
type memo struct {
	path         string
	key, loadKey string
	parts        []keyPart
	start        time.Time
}

// racyBound is the time (Unix nanoseconds) from which a change makes an
// entry racy for the plan being made.
func (m *memo) racyBound() int64 { return m.start.Add(-racySlack).UnixNano() }

// memoPath is where the plans of profile keep their memo: beside the
// records database they plan with.
func memoPath(records, profile string) string {
	s := sha256.Sum256([]byte(profile))
	return filepath.Join(filepath.Dir(records), "planmemo", hex.EncodeToString(s[:8])+".memo")
}

// openMemo returns the memo of c's plan, nil when it has none: no records
// database file, the memo turned off, or a system without change times.
func (c *creator) openMemo() (*memo, error) {
	if !memoSupported || c.opt.DB == nil || os.Getenv(memoEnv) == "off" {
		return nil, nil
	}
	// The memo lives beside the records: a store that is not a file
	// keeps none.
	db, ok := c.opt.DB.(interface{ Path() string })
	if !ok || db.Path() == "" {
		return nil, nil
	}
	key, loadKey, parts, err := c.memoKeys()
	if err != nil || key == "" {
		return nil, err
	}
	return &memo{path: memoPath(db.Path(), c.p.Name), key: key, loadKey: loadKey, parts: parts, start: memoNow()}, nil
}

// memoKeys identify what a plan is made from besides what its units
// list. The load key covers what a port's load depends on besides its
// directory, options file and external inputs: the planner itself (this
// executable), the settings, the Mk framework and git state, the
// environment. The plan key adds the options of Create, the profile's
// text, the version and the package records and CRC index the
// decisions read. Both are "" when the executable cannot be identified.
func (c *creator) memoKeys() (key, loadKey string, parts []keyPart, err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", "", nil, nil
	}
	es, ok := statSig(exe, false)
	if !ok || es.Mode == 0 {
		return "", "", nil, nil
	}
	settings, err := json.Marshal(c.p)
	if err != nil {
		return "", "", nil, fmt.Errorf("plan memo: %w", err)
	}
	tree, _ := json.Marshal(c.tree)
	env, _ := json.Marshal(c.env)
	part := func(name string, fields ...string) {
		parts = append(parts, keyPart{Name: name, Hash: hashFields(fields...)})
	}
	part("dsynth", memoVersion, scanVersion, exe, fmt.Sprint(es))
	part("settings", string(settings))
	part("framework", string(tree))
	part("environment", string(env), strings.Join(c.hostEnv, "\x00"), c.makeCmd)
	loadParts := len(parts)
	part("profile text", string(c.opt.ProfileSource), c.opt.DsynthVersion)
	part("options", strings.Join(c.opt.Force, "\x00"), strconv.FormatBool(c.opt.ForceAll), strconv.FormatBool(c.opt.KeepGoing))
	h := sha256.New()
	pkgs, err := c.opt.DB.Packages()
	if err != nil {
		return "", "", nil, err
	}
	if err := hashRecords(h, pkgs); err != nil {
		return "", "", nil, err
	}
	crcs, err := c.opt.DB.CRCIndex()
	if err != nil {
		return "", "", nil, err
	}
	writeField(h, []byte("crc"))
	if err := hashRecords(h, crcs); err != nil {
		return "", "", nil, err
	}
	parts = append(parts, keyPart{Name: "package records", Hash: hex.EncodeToString(h.Sum(nil))})
	hashOf := func(ps []keyPart) string {
		var f []string
		for _, p := range ps {
			f = append(f, p.Name, p.Hash)
		}
		return hashFields(f...)
	}
	return hashOf(parts), hashOf(parts[:loadParts]), parts, nil
}

// keyPart is one of what a memo's keys cover, by name, so that a plan can
// say which changed.
type keyPart struct{ Name, Hash string }

// changedParts names the parts of a that differ in b (or are missing).
func changedParts(a, b []keyPart) []string {
	have := map[string]string{}
	for _, p := range b {
		have[p.Name] = p.Hash
	}
	var out []string
	for _, p := range a {
		if have[p.Name] != p.Hash {
			out = append(out, p.Name)
		}
	}
	return out
}

// hashRecords writes records to h by sorted key, each as its JSON.
func hashRecords[V any](h hash.Hash, records map[string]V) error {
	ids := make([]string, 0, len(records))
	for id := range records {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		b, err := json.Marshal(records[id])
		if err != nil {
			return fmt.Errorf("plan memo: %w", err)
		}
		writeField(h, []byte(id))
		writeField(h, b)
	}
	return nil
}

// errStale says a memo does not stand for the plan being made.
var errStale = errors.New("stale")

// memoRead is what a memo holds for the plan being made: the whole plan
// when nothing it was made from changed, else the loads whose inputs are
// unchanged, by request (reuseKey).
type memoRead struct {
	plan   *Plan
	stats  *Stats
	units  []memoUnit
	nodes  []Node
	loads  []memoLoad
	reuse  map[string]*reusedLoad
	reread int
}

// reusedLoad is a load a plan takes from the memo: the load and its node
// (the plan's fields cleared), its port's unit and external inputs.
type reusedLoad struct {
	load *memoLoad
	node *Node
	unit *memoUnit
	ext  []*memoUnit
}

func reuseKey(origin, flavor string) string { return origin + "@" + flavor }

// read reads and checks the memo. It returns nil when nothing of it can
// be used (no memo, another load key, damaged); only a canceled context
// is an error.
func (m *memo) read(ctx context.Context, c *creator) (*memoRead, error) {
	r, err := m.decode(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var st *staleError
		switch {
		case errors.As(err, &st):
			c.notReused = st.why
		case !errors.Is(err, fs.ErrNotExist):
			c.notReused = "its memo could not be read"
		}
		return nil, nil
	}
	return r, nil
}

// staleError says why a memo does not stand for the plan being made.
type staleError struct{ why string }

func (e *staleError) Error() string { return e.why }

func (m *memo) decode(ctx context.Context, c *creator) (*memoRead, error) {
	f, err := os.Open(m.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	body := fi.Size() - int64(len(memoMagic)) - 8 - sha256.Size
	var magic [8]byte
	if body < 0 {
		return nil, errStale
	}
	if _, err := io.ReadFull(f, magic[:]); err != nil || magic != memoMagic {
		return nil, errStale
	}
	// The sum first: nothing of a damaged file is decoded (a length
	// read wrong could ask for a GB).
	sum := sha256.New()
	var trailer [8 + sha256.Size]byte
	if _, err := io.Copy(sum, io.LimitReader(f, body)); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(f, trailer[:]); err != nil ||
		binary.LittleEndian.Uint64(trailer[:8]) != uint64(body) || !bytes.Equal(trailer[8:], sum.Sum(nil)) {
		return nil, errStale
	}
	if _, err := f.Seek(int64(len(memoMagic)), io.SeekStart); err != nil {
		return nil, err
	}
	dec := gob.NewDecoder(bufio.NewReaderSize(io.LimitReader(f, body), 1<<16))
	var head memoHead
	if err := dec.Decode(&head); err != nil || head.Version != memoVersion ||
		int64(head.Units) > body || int64(head.Nodes) > body || int64(head.Loads) > body || head.Units < 0 || head.Nodes < 0 || head.Loads < 0 {
		return nil, &staleError{"its memo is of another dsynth"}
	}
	if head.LoadKey != m.loadKey {
		changed := changedParts(m.parts, head.Parts)
		if slices.Contains(changed, "dsynth") {
			return nil, &staleError{"it was made by another dsynth, so every port is loaded again"}
		}
		return nil, &staleError{"the " + strings.Join(changed, ", ") + " changed, so every port is loaded again"}
	}
	whole := head.Key == m.key
	var why []string
	if !whole {
		why = append(why, "the "+strings.Join(changedParts(m.parts, head.Parts), ", ")+" changed")
	}
	r := &memoRead{units: make([]memoUnit, 0, head.Units)}
	if err := decodeChunks(dec, head.Units, func(c []memoUnit) { r.units = append(r.units, c...) }); err != nil {
		return nil, err
	}
	valid, reread, err := c.checkUnits(ctx, r.units, whole, m.racyBound())
	if err != nil {
		return nil, err
	}
	r.reread = reread
	if w := changedUnits(r.units, valid, whole); w != "" {
		why = append(why, w)
		whole = false
	}
	c.notReused = strings.Join(why, "; ")
	r.nodes = make([]Node, 0, head.Nodes)
	if err := decodeChunks(dec, head.Nodes, func(c []Node) { r.nodes = append(r.nodes, c...) }); err != nil {
		return nil, err
	}
	// The loads (and the nodes' planning-only names) are needed to
	// reuse them, or to rewrite the memo after a re-read.
	if !whole || reread >= rewriteAfter {
		r.loads = make([]memoLoad, 0, head.Loads)
		if err := decodeChunks(dec, head.Loads, func(c []memoLoad) { r.loads = append(r.loads, c...) }); err != nil {
			return nil, err
		}
		i := 0
		err := decodeChunks(dec, len(r.nodes), func(c []memoNames) {
			for _, x := range c {
				r.nodes[i].Recipe, r.nodes[i].Files = x.Recipe, x.Files
				i++
			}
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range r.nodes {
		if r.nodes[i].Deps == nil {
			r.nodes[i].Deps = map[DepKind][]string{}
		}
	}
	if whole {
		if head.Order == nil {
			head.Order = []string{}
		}
		r.plan = &Plan{
			DsynthVersion: c.opt.DsynthVersion, Settings: *c.p, ProfileSource: string(c.opt.ProfileSource),
			Tree: c.tree, Environment: c.env, Ports: r.nodes, PkgNode: head.PkgNode, Order: head.Order,
		}
		st := head.Stats
		r.stats = &st
		return r, nil
	}
	r.reuse = reusable(r.units, valid, r.nodes, r.loads)
	return r, nil
}

// changedUnits says which of the units that were checked did not stand
// ("" when all did): the ports by origin, at most five of them named.
func changedUnits(units []memoUnit, valid []bool, whole bool) string {
	var ports, other []string
	for i := range units {
		u := &units[i]
		if valid[i] || (!whole && u.Kind != unitPort && u.Kind != unitExternal) {
			continue
		}
		switch u.Kind {
		case unitPort:
			ports = append(ports, u.Label)
		case unitListing:
			other = append(other, "the list of ports")
		case unitInputs:
			other = append(other, "the input components recorded")
		default:
			other = append(other, u.Path)
		}
	}
	var out []string
	if len(ports) > 0 {
		sort.Strings(ports)
		n := fmt.Sprintf("%d ports changed", len(ports))
		if len(ports) == 1 {
			n = "1 port changed"
		}
		more := ""
		if len(ports) > 5 {
			more, ports = fmt.Sprintf(" and %d more", len(ports)-5), ports[:5]
		}
		out = append(out, n+" ("+strings.Join(ports, ", ")+more+")")
	}
	if len(other) > 0 {
		sort.Strings(other)
		more := ""
		if other = slices.Compact(other); len(other) > 3 {
			more, other = fmt.Sprintf(" and %d more", len(other)-3), other[:3]
		}
		out = append(out, strings.Join(other, ", ")+more+" changed")
	}
	return strings.Join(out, "; ")
}

// reusable returns the loads whose port unit and external inputs are
// valid, by request, each with its node.
func reusable(units []memoUnit, valid []bool, nodes []Node, loads []memoLoad) map[string]*reusedLoad {
	ports := map[string]*memoUnit{}
	for i := range units {
		if u := &units[i]; valid[i] && u.Kind == unitPort {
			ports[u.Label] = u
		}
	}
	out := make(map[string]*reusedLoad, len(loads))
next:
	for i := range loads {
		l := &loads[i]
		u := ports[l.Origin]
		j, found := sort.Find(len(nodes), func(j int) int { return strings.Compare(l.ID, nodes[j].ID) })
		if _, ok := unpackDeps(l.PackedDeps, nil); u == nil || !found || !ok {
			continue
		}
		n := &nodes[j] // several loads of one node: the walk keeps one
		r := &reusedLoad{load: l, node: n, unit: u}
		for _, k := range l.ExtUnits {
			if k < 0 || int(k) >= len(units) || !valid[k] || units[k].Kind != unitExternal {
				continue next
			}
			r.ext = append(r.ext, &units[k])
		}
		n.Deps = map[DepKind][]string{}
		n.InputKey, n.Action, n.Reason, n.Priority = "", "", "", 0
		out[reuseKey(l.Origin, l.Flavor)] = r
	}
	return out
}

// reuse returns the memoized plan when nothing it was made from changed,
// else (nil) sets c up to take the loads it can from the memo.
func (m *memo) reuse(ctx context.Context, c *creator) (*Plan, *Stats, error) {
	r, err := m.read(ctx, c)
	if err != nil || r == nil {
		return nil, nil, err
	}
	if r.plan == nil {
		c.reuse = r.reuse
		return nil, nil, nil
	}
	pl, st := r.plan, r.stats
	if r.reread >= rewriteAfter {
		// Make the next reuse a stat check again: the content read now
		// vouches for the signatures taken now.
		_ = m.write(sliceSeq(r.units), pl.Ports, sliceSeq(r.loads), memoHead{PkgNode: pl.PkgNode, Order: pl.Order, Stats: *st})
	}
	st.Reused, st.Reread = true, r.reread
	st.Checked = checkedPaths(r.units)
	st.CacheHits, st.Loads, st.MakeRuns, st.FromMemo, st.NotReused = st.Loads, 0, 0, 0, ""
	return pl, st, nil
}

// checkedPaths counts the paths the units had stat'ed.
func checkedPaths(units []memoUnit) int {
	n := 0
	for i := range units {
		if units[i].Kind == unitInputs {
			continue
		}
		n++
		if units[i].Names != "" {
			n += 1 + strings.Count(units[i].Names, "\n")
		}
		if units[i].Kind == unitPort {
			n++
		}
	}
	return n
}

// checkUnits checks units against the file system (and, for the whole
// plan, the records), in parallel: a unit whose signatures match (and
// were not racy) stands; another is read again and compared by content.
// It returns which units stand and how many were read again. Without
// whole, only the units loads depend on are checked (the rest are not
// valid).
func (c *creator) checkUnits(ctx context.Context, units []memoUnit, whole bool, bound int64) ([]bool, int, error) {
	valid := make([]bool, len(units))
	for i := range units {
		if units[i].Kind != unitInputs || !whole {
			continue
		}
		have, err := c.opt.DB.HasInputs(units[i].Path)
		valid[i] = err == nil && have == (units[i].Hash == "1")
	}
	var next, reread atomic.Int64
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(256)) - 256
				if i >= len(units) {
					return
				}
				for j := i; j < min(i+256, len(units)); j++ {
					u := &units[j]
					if u.Kind == unitInputs || (!whole && u.Kind != unitPort && u.Kind != unitExternal) {
						continue
					}
					ok, again := c.checkUnit(u, bound)
					valid[j] = ok
					if again {
						reread.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	return valid, int(reread.Load()), nil
}

// checkUnit checks one unit and updates its Sum to what it is now;
// again is true when it was read again by content.
func (c *creator) checkUnit(u *memoUnit, bound int64) (ok, again bool) {
	if u.Kind == unitInputs {
		return true, false
	}
	sum, racy, ok := c.sigSum(u, bound)
	if !ok {
		return false, false
	}
	if sum == u.Sum && !u.Racy {
		return true, false
	}
	u.Sum, u.Racy = sum, racy
	var h string
	var err error
	switch u.Kind {
	case unitPort:
		var d DirHash
		if d, err = hashDir(c.portDir(u.Label), u.Label, nil); err == nil && d.SHA256 == u.Hash {
			h, err = hashFile(c.optionsFile(u.Label))
			return err == nil && h == u.OptHash, true
		}
		return false, true
	case unitFile:
		h, err = hashFile(u.Path)
	case unitExternal:
		h, err = externalHash(u.Path)
	case unitStat:
		h = statKind(u.Path)
	case unitListing:
		var l []string
		l, err = listPorts(u.Path, nil)
		h = hashFields(l...)
	default:
		return false, true
	}
	return err == nil && h == u.Hash, true
}

// sigSum digests the stat signatures of what u read, as they are now,
// and says whether one changed at or after bound (Unix nanoseconds; 0:
// not asked). What a directory walk read is stat'ed itself (the walk
// reads links as links); the rest (the walked directory, files read, a
// listing's directories and Makefiles) is followed, as the planner opens
// it. ok is false when something cannot be stat'ed.
func (c *creator) sigSum(u *memoUnit, bound int64) (sum [16]byte, racy, ok bool) {
	h := sha256.New()
	var b [44]byte
	add := func(p string, lstat bool) bool {
		s, ok := statSig(p, lstat)
		if !ok {
			return false
		}
		binary.LittleEndian.PutUint64(b[0:], s.Dev)
		binary.LittleEndian.PutUint64(b[8:], s.Ino)
		binary.LittleEndian.PutUint32(b[16:], s.Mode)
		binary.LittleEndian.PutUint64(b[20:], uint64(s.Size))
		binary.LittleEndian.PutUint64(b[28:], uint64(s.Mtime))
		binary.LittleEndian.PutUint64(b[36:], uint64(s.Ctime))
		h.Write(b[:])
		if bound != 0 && s.racy(bound) {
			racy = true
		}
		return true
	}
	root := u.Path
	if u.Kind == unitPort {
		root = c.portDir(u.Label)
	}
	if !add(root, false) {
		return sum, false, false
	}
	for rest := u.Names; rest != ""; {
		name, tail, _ := strings.Cut(rest, "\n")
		rest = tail
		if !add(filepath.Join(root, filepath.FromSlash(name)), u.Kind != unitListing) {
			return sum, false, false
		}
	}
	if u.Kind == unitPort && !add(c.optionsFile(u.Label), false) {
		return sum, false, false
	}
	copy(sum[:], h.Sum(nil))
	return sum, racy, true
}

// save writes the memo of the plan c made: every unit with its
// signatures, the external inputs c hashed, then the nodes. A unit that
// changed after the plan started (racySlack before it) is marked racy.
// Nothing is written when the plan saw something it cannot vouch for.
func (m *memo) save(c *creator, pl *Plan, st *Stats) error {
	if c.obs.bad.Load() {
		return nil
	}
	var ext []memoUnit
	var paths []string
	c.hashes.Range(func(k, _ any) bool {
		paths = append(paths, k.(string))
		return true
	})
	sort.Strings(paths)
	for _, p := range paths {
		v, _ := c.hashes.Load(p)
		u := memoUnit{Kind: unitExternal, Path: p, Hash: v.(string)}
		if strings.HasSuffix(p, string(filepath.Separator)) && v.(string) != "-" {
			var names []string
			d, err := hashDir(p, ".", &names)
			if err != nil || d.SHA256 != u.Hash {
				return nil // changed while planning
			}
			u.Names = strings.Join(names[1:], "\n")
		}
		ext = append(ext, u)
	}
	// Each unit gets its signatures as they are now, as it is written.
	spilled := c.obs.units.seq()
	bound := m.racyBound()
	units := seq[memoUnit]{n: spilled.n + len(ext), each: func(fn func(memoUnit) error) error {
		sign := func(u memoUnit) error {
			if u.Kind != unitInputs {
				var ok bool
				if u.Sum, u.Racy, ok = c.sigSum(&u, bound); !ok {
					return errStale
				}
			}
			return fn(u)
		}
		if err := spilled.each(sign); err != nil {
			return err
		}
		return sliceSeq(ext).each(sign)
	}}
	// Each load is written with its dependencies packed and its external
	// inputs as the indexes of their units (after the spilled ones).
	extUnit := make(map[string]int32, len(ext))
	for i, u := range ext {
		extUnit[u.Path] = int32(spilled.n + i)
	}
	spilledLoads := c.obs.loads.seq()
	loads := seq[memoLoad]{n: spilledLoads.n, each: func(fn func(memoLoad) error) error {
		return spilledLoads.each(func(l memoLoad) error {
			l.PackedDeps, l.Deps = packDeps(l.Deps), nil
			for _, p := range l.Ext {
				k, ok := extUnit[p]
				if !ok {
					k = -1 // not reusable
				}
				l.ExtUnits = append(l.ExtUnits, k)
			}
			l.Ext = nil
			return fn(l)
		})
	}}
	return m.write(units, pl.Ports, loads, memoHead{PkgNode: pl.PkgNode, Order: pl.Order, Stats: *st})
}

// write writes a memo file (to a temporary file renamed over the old
// one, so that a reader sees one memo or the other): magic, the gob
// stream of head, units and nodes in chunks, its length and SHA-256.
func (m *memo) write(units seq[memoUnit], nodes []Node, loads seq[memoLoad], head memoHead) error {
	head.Version, head.Key, head.LoadKey, head.Parts = memoVersion, m.key, m.loadKey, m.parts
	head.Units, head.Nodes, head.Loads = units.n, len(nodes), loads.n
	if err := os.MkdirAll(filepath.Dir(m.path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(m.path), ".memo-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	sum := sha256.New()
	n := &countWriter{}
	bw := bufio.NewWriterSize(f, 1<<20)
	if _, err := bw.Write(memoMagic[:]); err != nil {
		return err
	}
	enc := gob.NewEncoder(io.MultiWriter(bw, sum, n))
	if err := enc.Encode(&head); err != nil {
		return err
	}
	// The units, the nodes without their planning-only names (a reused
	// plan does not need them), the loads, then those names (loads taken
	// from the memo do: their input components name them).
	chunk := make([]Node, 0, 1024)
	names := make([]memoNames, 0, 1024)
	err = encodeSeq(enc, units)
	if err == nil {
		err = encodeChunks(enc, len(nodes), func(i, j int) []Node {
			chunk = append(chunk[:0], nodes[i:j]...)
			for k := range chunk {
				chunk[k].Recipe, chunk[k].Files = "", ""
			}
			return chunk
		})
	}
	if err == nil {
		err = encodeSeq(enc, loads)
	}
	if err == nil {
		err = encodeChunks(enc, len(nodes), func(i, j int) []memoNames {
			names = names[:0]
			for _, n := range nodes[i:j] {
				names = append(names, memoNames{Recipe: n.Recipe, Files: n.Files})
			}
			return names
		})
	}
	if err != nil {
		return err
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint64(trailer[:], uint64(n.n))
	bw.Write(trailer[:])
	bw.Write(sum.Sum(nil))
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), m.path)
}

// memoChunk is how many values a memo encodes at once (each Encode holds
// its whole message).
const memoChunk = 1024

// encodeChunks encodes n values in chunks: chunk(i, j) returns values i
// to j.
func encodeChunks[T any](enc *gob.Encoder, n int, chunk func(i, j int) []T) error {
	for i := 0; i < n; i += memoChunk {
		if err := enc.Encode(chunk(i, min(i+memoChunk, n))); err != nil {
			return err
		}
	}
	return nil
}

// encodeSeq encodes s in chunks, as encodeChunks does.
func encodeSeq[T any](enc *gob.Encoder, s seq[T]) error {
	chunk := make([]T, 0, memoChunk)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		err := enc.Encode(chunk)
		chunk = chunk[:0]
		return err
	}
	n := 0
	err := s.each(func(x T) error {
		n++
		if chunk = append(chunk, x); len(chunk) == memoChunk {
			return flush()
		}
		return nil
	})
	if err == nil && n != s.n {
		err = fmt.Errorf("plan memo: %d values, %d announced", n, s.n)
	}
	if err != nil {
		return err
	}
	return flush()
}

// decodeChunks decodes n values written by encodeChunks, passing each
// chunk to add.
func decodeChunks[T any](dec *gob.Decoder, n int, add func([]T)) error {
	for got := 0; got < n; {
		var chunk []T
		if err := dec.Decode(&chunk); err != nil || len(chunk) == 0 || got+len(chunk) > n {
			return errStale
		}
		add(chunk)
		got += len(chunk)
	}
	return nil
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(b []byte) (int, error) { w.n += int64(len(b)); return len(b), nil }

// memoDiff says how a reused plan differs from a fresh one ("" when it
// does not), for DSYNTH_PLAN_MEMO=check.
func memoDiff(reused, fresh *Plan) string {
	if reused.PkgNode != fresh.PkgNode {
		return fmt.Sprintf("pkg node %q, fresh %q", reused.PkgNode, fresh.PkgNode)
	}
	if !reflect.DeepEqual(reused.Order, fresh.Order) {
		return "the build order differs"
	}
	if len(reused.Ports) != len(fresh.Ports) {
		return fmt.Sprintf("%d nodes, fresh %d", len(reused.Ports), len(fresh.Ports))
	}
	for i := range reused.Ports {
		a, b := reflect.ValueOf(reused.Ports[i]), reflect.ValueOf(fresh.Ports[i])
		for j := 0; j < a.NumField(); j++ {
			if f := a.Type().Field(j).Name; (f == "Recipe" || f == "Files") && a.Field(j).String() == "" {
				continue // a reused plan has none
			}
			x, y := a.Field(j), b.Field(j)
			if (x.Kind() == reflect.Map || x.Kind() == reflect.Slice) && x.Len() == 0 && y.Len() == 0 {
				continue
			}
			if !reflect.DeepEqual(x.Interface(), y.Interface()) {
				return fmt.Sprintf("node %s: %s is %v, fresh %v", fresh.Ports[i].ID, a.Type().Field(j).Name, x, y)
			}
		}
	}
	return ""
}
