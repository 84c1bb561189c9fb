//go:build linux

package main

// Hostile ports, applied for real: each tries one way out of its slot or
// into other ports' packages, as a port nobody reviewed could. None may
// reach the host; only dsynth itself publishes packages.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/record"
)

// hostilePorts writes the hostile ports into tree; secret is a host file,
// hostDir a host folder, neither visible in a slot.
func hostilePorts(t *testing.T, tree, secret, hostDir string) {
	t.Helper()
	ports := map[string]string{
		// The package phase's file replaced by a symlink to a host file
		// (the cookie makes the package phase itself a no-op).
		"hostile/pkglink": `do-install:
	${MKDIR} ${STAGEDIR}${PREFIX}/share
	mkdir -p ${PKGREPOSITORY}
	ln -sf ` + secret + ` ${PKGFILE}
	touch ${PACKAGE_COOKIE}
`,
		// /packages/All swapped for a symlink to a host folder.
		"hostile/swapall": `do-install:
	${MKDIR} ${STAGEDIR}${PREFIX}/share/swapall
	echo swap > ${STAGEDIR}${PREFIX}/share/swapall/f
	-mv /packages/All /packages/All.old
	-ln -sfn ` + hostDir + ` /packages/All
	-ln -sfn ` + hostDir + ` /packages/All/escape
`,
		// Another port's package altered.
		"hostile/tamper": `BUILD_DEPENDS=	libmini.so:devel/libmini
do-install:
	${MKDIR} ${STAGEDIR}${PREFIX}/share/tamper
	echo tamper > ${STAGEDIR}${PREFIX}/share/tamper/f
	-for p in /packages/All/*; do echo tampered >> $$p; done
`,
		// The host's root through /proc.
		"hostile/procroot": `do-build:
	-for p in /proc/[0-9]*; do cat $$p/root` + secret + `; echo x > $$p/root` + hostDir + `/procroot; cat $$p/cwd/../../../../../../../..` + secret + `; done
do-install:
	${MKDIR} ${STAGEDIR}${PREFIX}/share/procroot
	echo ok > ${STAGEDIR}${PREFIX}/share/procroot/f
`,
	}
	for origin, body := range ports {
		dir := filepath.Join(tree, origin)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(origin)
		mk := fmt.Sprintf("PORTNAME=\t%s\nPORTVERSION=\t1.0\nCATEGORIES=\thostile\nCOMMENT=\tHostile port\nNO_BUILD?=\tyes\n\n%s\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n", name, body)
		if strings.Contains(body, "do-build:") {
			mk = strings.Replace(mk, "NO_BUILD?=\tyes\n", "", 1)
		}
		if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestE2EHostilePortsReachNothing(t *testing.T) {
	dir := e2eSetup(t, "hostile/pkglink", "hostile/swapall", "hostile/tamper", "hostile/procroot", "misc/minicat")
	host := t.TempDir()
	secret := filepath.Join(host, "secret")
	hostDir := filepath.Join(host, "dir")
	if err := os.WriteFile(secret, []byte("HOST-SECRET-CONTENT\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(hostDir, 0o755); err != nil {
		t.Fatal(err)
	}
	hostilePorts(t, filepath.Join(dir, "ports"), secret, hostDir)
	base := filepath.Join(dir, "base")

	for round := range 2 {
		out, code := dsynth(t, dir, "plan", "-out", "plan.json", "p.hcl")
		mustCode(t, out, code, 0, "plan")
		out, code = dsynth(t, dir, "apply", "plan.json")
		if code != exitFailed {
			t.Fatalf("round %d: apply exit %d, want %d (hostile/pkglink fails)\n%s", round, code, exitFailed, out)
		}
		if !strings.Contains(out, "FAILED   hostile/pkglink") {
			t.Errorf("round %d: hostile/pkglink did not fail:\n%s", round, out)
		}
		noLeftovers(t, base)
	}

	// Nothing reached the host folder, and the secret stayed where it was.
	if ents, _ := os.ReadDir(hostDir); len(ents) > 0 {
		t.Errorf("the host folder received %v", ents)
	}
	if b, _ := os.ReadFile(secret); string(b) != "HOST-SECRET-CONTENT\n" {
		t.Errorf("host secret changed: %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(base, "packages", "All")); err != nil || !fi.IsDir() {
		t.Fatalf("packages/All: %v %v", fi, err)
	}
	logs, _ := filepath.Glob(filepath.Join(base, "logs", "*.log"))
	for _, l := range logs {
		if b, _ := os.ReadFile(l); strings.Contains(string(b), "HOST-SECRET-CONTENT") {
			t.Errorf("%s holds the host secret", l)
		}
	}

	db := e2eRecords(t, dir)
	defer db.Close()
	h, err := db.History("hostile/pkglink")
	if err != nil || len(h) == 0 {
		t.Fatalf("hostile/pkglink history: %v %v", h, err)
	}
	for _, at := range h {
		if at.Status == record.AttemptSuccess || !strings.Contains(at.Error, "symlink") {
			t.Errorf("hostile/pkglink attempt %s: %q", at.Status, at.Error)
		}
	}
	// Every recorded package is the file in packages/All, bit for bit:
	// no build changed another's package.
	pk, err := db.Packages()
	if err != nil {
		t.Fatal(err)
	}
	if len(pk) < 4 {
		t.Fatalf("packages recorded: %d", len(pk))
	}
	for _, p := range pk {
		b, err := os.ReadFile(filepath.Join(base, "packages", "All", p.PkgFile))
		if err != nil {
			t.Errorf("%s: %v", p.PkgFile, err)
			continue
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != p.SHA256 {
			t.Errorf("%s differs from its record: altered after it was built", p.PkgFile)
		}
		if strings.Contains(string(b), "tampered") {
			t.Errorf("%s holds the tamperer's bytes", p.PkgFile)
		}
	}
}

// A port printing more than the log disk holds fails with that reason;
// the run goes on, ends and is recorded; status works on the full disk.
func TestE2ELogDiskFull(t *testing.T) {
	dir := e2eSetup(t, "hostile/noisy", "misc/minicat")
	tree := filepath.Join(dir, "ports")
	if err := os.MkdirAll(filepath.Join(tree, "hostile/noisy"), 0o755); err != nil {
		t.Fatal(err)
	}
	mk := "PORTNAME=\tnoisy\nPORTVERSION=\t1.0\nCATEGORIES=\thostile\nCOMMENT=\tNoisy port\n\n" +
		"do-build:\n\thead -c 40000000 /dev/zero | tr '\\0' x\n\n" +
		"do-install:\n\t${MKDIR} ${STAGEDIR}${PREFIX}/share/noisy\n\techo n > ${STAGEDIR}${PREFIX}/share/noisy/f\n\n" +
		".include \"${PORTSDIR}/Mk/bsd.port.mk\"\n"
	if err := os.WriteFile(filepath.Join(tree, "hostile/noisy/Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join(dir, "logs")
	base := filepath.Join(dir, "base")
	for _, d := range []struct {
		dir, size string
	}{{logs, "4m"}, {base, "64m"}} {
		if err := os.Mkdir(d.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mount("tmpfs", d.dir, "tmpfs", 0, "size="+d.size); err != nil {
			t.Fatalf("mount a small disk: %v", err)
		}
		t.Cleanup(func() { syscall.Unmount(d.dir, syscall.MNT_DETACH) })
	}
	prof, _ := os.ReadFile(filepath.Join(dir, "p.hcl"))
	prof = []byte(strings.Replace(string(prof), `build_base = "base"`, `build_base = "base"
  logs_dir   = "logs"`, 1))
	os.WriteFile(filepath.Join(dir, "p.hcl"), prof, 0o644)

	out, code := dsynth(t, dir, "plan", "-out", "plan.json", "p.hcl")
	mustCode(t, out, code, 0, "plan")
	out, code = dsynth(t, dir, "apply", "plan.json")
	mustCode(t, out, code, exitFailed, "apply")
	if !strings.Contains(out, "FAILED   hostile/noisy") || !strings.Contains(out, "log disk full") {
		t.Errorf("apply output lacks the noisy port's failure:\n%s", out)
	}
	db := e2eRecords(t, dir)
	run, err := db.Run("last")
	db.Close()
	if err != nil || run.Status != record.RunFailed || run.End.IsZero() {
		t.Fatalf("run: %+v %v", run, err)
	}
	// Fill both disks completely; status still answers.
	for _, d := range []string{logs, base} {
		exec.Command("sh", "-c", "cat /dev/zero > "+filepath.Join(d, "filler")+" 2>/dev/null; true").Run()
	}
	out, code = dsynth(t, dir, "status", "-records", filepath.Join(base, "records.db"))
	mustCode(t, out, code, 0, "status on a full disk")
	if sl, _ := filepath.Glob(filepath.Join(base, "SL*")); len(sl) > 0 {
		t.Errorf("slot directories left: %v", sl)
	}
}

// An apply SIGKILLed while its disk is full: status still answers and
// marks the run crashed, with its real duration (not its last event's).
func TestE2ECrashOnFullDisk(t *testing.T) {
	dir := e2eSetup(t, "hostile/slow")
	tree := filepath.Join(dir, "ports")
	if err := os.MkdirAll(filepath.Join(tree, "hostile/slow"), 0o755); err != nil {
		t.Fatal(err)
	}
	mk := "PORTNAME=\tslow\nPORTVERSION=\t1.0\nCATEGORIES=\thostile\nCOMMENT=\tSlow port\n\n" +
		"do-build:\n\techo building; sleep 600\n\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n"
	if err := os.WriteFile(filepath.Join(tree, "hostile/slow/Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "base")
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", base, "tmpfs", 0, "size=64m"); err != nil {
		t.Fatalf("mount a small disk: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(base, syscall.MNT_DETACH) })
	out, code := dsynth(t, dir, "plan", "-out", "plan.json", "p.hcl")
	mustCode(t, out, code, 0, "plan")
	apply := exec.Command(e2eBin, "apply", "plan.json")
	apply.Dir = dir
	apply.Env = append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	logf, _ := os.Create(filepath.Join(dir, "apply.out"))
	defer logf.Close()
	apply.Stdout, apply.Stderr = logf, logf
	if err := apply.Start(); err != nil {
		t.Fatal(err)
	}
	defer apply.Process.Kill()
	// Wait until the slow port is in its build phase (the log says so).
	logPath := filepath.Join(base, "logs", "hostile___slow.log")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, _ := os.ReadFile(logPath); strings.Contains(string(b), "building") {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "apply.out"))
			t.Fatalf("the slow port never started building:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The disk fills; the run goes on silently for a while (the status
	// file cannot be rewritten), then the process dies.
	exec.Command("sh", "-c", "cat /dev/zero > "+filepath.Join(base, "filler")+" 2>/dev/null; true").Run()
	started := time.Now()
	beat := filepath.Join(base, "dsynth.status.json")
	fi0, err := os.Stat(beat)
	if err != nil {
		t.Fatal(err)
	}
	var seen time.Time
	for {
		fi, err := os.Stat(beat)
		if err == nil && fi.ModTime().After(fi0.ModTime().Add(4*time.Second)) {
			seen = fi.ModTime() // heartbeats on the full disk, long after the last event
			break
		}
		if time.Since(started) > 60*time.Second {
			t.Fatal("no heartbeat on the full disk")
		}
		time.Sleep(50 * time.Millisecond)
	}
	apply.Process.Signal(syscall.SIGKILL)
	apply.Wait()

	out, code = dsynth(t, dir, "status", "-records", filepath.Join(base, "records.db"))
	mustCode(t, out, code, 0, "status on a full disk after a crash")
	if !strings.Contains(out, "not yet recorded: the disk is full") || !strings.Contains(out, "crashed") {
		t.Errorf("status on the full disk:\n%s", out)
	}
	// With room again, the next status records it.
	os.Remove(filepath.Join(base, "filler"))
	out, code = dsynth(t, dir, "status", "-records", filepath.Join(base, "records.db"))
	mustCode(t, out, code, 0, "status after freeing the disk")
	db := e2eRecords(t, dir)
	defer db.Close()
	run, err := db.Run("last")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != record.RunCrashed {
		t.Fatalf("run status %s, want crashed\n%s", run.Status, out)
	}
	if ran := run.End.Sub(run.Start); run.End.Before(seen.Add(-time.Millisecond)) || ran < 4*time.Second {
		t.Errorf("crashed run ended at %s (ran %s), but it was alive at %s", run.End, ran, seen.UTC())
	}
}

// status -watch follows a run from another process until it ends.
func TestE2EStatusWatch(t *testing.T) {
	dir := e2eSetup(t, "hostile/gate")
	gate := filepath.Join(dir, "ports", "hostile/gate")
	if err := os.MkdirAll(gate, 0o755); err != nil {
		t.Fatal(err)
	}
	// The port waits in its build phase until the test opens the gate
	// (the ports tree is the slot's read-only /xports: the host's write
	// shows through).
	mk := "PORTNAME=\tgate\nPORTVERSION=\t1.0\nCATEGORIES=\thostile\nCOMMENT=\tWaits for the test\n\n" +
		"do-build:\n\techo waiting; while [ ! -e ${.CURDIR}/open ]; do sleep 0.05; done\n\n" +
		"do-install:\n\t${MKDIR} ${STAGEDIR}${PREFIX}/share/gate\n\techo g > ${STAGEDIR}${PREFIX}/share/gate/f\n\n.include \"${PORTSDIR}/Mk/bsd.port.mk\"\n"
	if err := os.WriteFile(filepath.Join(gate, "Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := dsynth(t, dir, "plan", "-out", "plan.json", "p.hcl")
	mustCode(t, out, code, 0, "plan")
	env := append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	apply := exec.Command(e2eBin, "apply", "plan.json")
	apply.Dir, apply.Env = dir, env
	if err := apply.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { apply.Process.Kill(); apply.Wait() }()
	logPath := filepath.Join(dir, "base", "logs", "hostile___gate.log")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(logPath); strings.Contains(string(b), "waiting") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the gate port never started building")
		}
	}
	watch := exec.Command(e2eBin, "status", "-watch", "-records", filepath.Join(dir, "base", "records.db"))
	watch.Dir, watch.Env = dir, env
	pipe, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { watch.Process.Kill(); watch.Wait() }()
	var seen strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(seen.String(), "hostile/gate") {
		n, err := pipe.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			t.Fatalf("watch ended before showing the live run: %v\n%s", err, seen.String())
		}
	}
	if !strings.Contains(seen.String(), "is running") {
		t.Errorf("live frame:\n%s", seen.String())
	}
	if err := os.WriteFile(filepath.Join(gate, "open"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := pipe.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			break // EOF: the watch ended by itself
		}
	}
	if err := watch.Wait(); err != nil {
		t.Errorf("watch: %v\n%s", err, seen.String())
	}
	if err := apply.Wait(); err != nil {
		t.Errorf("apply: %v", err)
	}
	if !strings.Contains(seen.String(), "No apply is running. Last run") || !strings.Contains(seen.String(), ": success,") {
		t.Errorf("watch did not end on the run's result:\n%s", seen.String())
	}
}

// workers.ccache_dir: the slots compile through ccache into the host
// folder; a rebuild hits the cache, and the summary says so.
func TestE2ECCache(t *testing.T) {
	if _, err := exec.LookPath("ccache"); err != nil {
		t.Skip("ccache not installed (make test-deps installs it)")
	}
	if _, err := os.Stat("/usr/lib/ccache/cc"); err != nil {
		t.Skip("no ccache wrappers in /usr/lib/ccache")
	}
	dir := e2eSetup(t, "devel/libmini")
	cc := filepath.Join(dir, "ccache")
	prof, _ := os.ReadFile(filepath.Join(dir, "p.hcl"))
	prof = []byte(strings.Replace(string(prof), "    throttle = false\n", "    throttle = false\n    ccache_dir = \"ccache\"\n    ccache_size = \"64m\"\n", 1))
	os.WriteFile(filepath.Join(dir, "p.hcl"), prof, 0o644)
	out, code := dsynth(t, dir, "plan", "-out", "plan.json", "p.hcl")
	mustCode(t, out, code, 0, "plan")
	out, code = dsynth(t, dir, "apply", "plan.json")
	mustCode(t, out, code, 0, "apply")
	if !strings.Contains(out, "ccache: 0 hits, ") || strings.Contains(out, "ccache: 0 hits, 0 misses") {
		t.Errorf("first build, summary:\n%s", out)
	}
	out, code = dsynth(t, dir, "plan", "-force", "devel/libmini", "-out", "plan2.json", "p.hcl")
	mustCode(t, out, code, 0, "plan -force")
	out, code = dsynth(t, dir, "apply", "plan2.json")
	mustCode(t, out, code, 0, "apply again")
	if strings.Contains(out, "ccache: 0 hits") || !strings.Contains(out, "ccache: ") {
		t.Errorf("rebuild did not hit the cache:\n%s", out)
	}
	if ents, _ := os.ReadDir(cc); len(ents) == 0 {
		t.Errorf("the host ccache folder is empty")
	}
}
