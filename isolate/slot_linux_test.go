package isolate_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/isolate/isolatetest"
)

func TestConformance(t *testing.T) {
	isolatetest.Run(t, isolate.Prepare, isolate.Cleanup)
}

func needRoot(t testing.TB) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

func testLayout(t testing.TB) isolate.Layout {
	base := t.TempDir()
	for _, d := range []string{"ports", "distfiles", "packages", "options", "output"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return isolate.Layout{
		BuildBase: filepath.Join(base, "build"), SystemDir: "/",
		PortsDir: filepath.Join(base, "ports"), DistfilesDir: filepath.Join(base, "distfiles"),
		PackagesDir: filepath.Join(base, "packages"), OptionsDir: filepath.Join(base, "options"),
		OutputDir: filepath.Join(base, "output"), TmpfsWork: 512 << 20, TmpfsLocalbase: 128 << 20,
	}
}

// The slot must be able to build ports: bmake, gcc (headers, libraries,
// libexec, /tmp) and tar from the host's /usr.
func TestToolchain(t *testing.T) {
	needRoot(t)
	for _, tool := range []string{"bmake", "gcc", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	l := testLayout(t)
	port := filepath.Join(l.PortsDir, "devel/hello")
	os.MkdirAll(port, 0o755)
	os.WriteFile(filepath.Join(port, "hello.c"), []byte("#include <stdio.h>\n#include <zlib.h>\nint main(void){printf(\"hello from the slot\\n\");return 0;}\n"), 0o644)
	os.WriteFile(filepath.Join(port, "Makefile"), []byte("PORTNAME=hello\nWRK=/construction/hello\nall:\n\tmkdir -p ${WRK}\n\tcc -O2 -o ${WRK}/hello ${.CURDIR}/hello.c\n\t${WRK}/hello\n\ttar -C ${WRK} -czf /.npkg/hello.tgz hello\n"), 0o644)
	s, err := isolate.Prepare(context.Background(), l, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Teardown()
	env := []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/root"}
	for _, c := range []struct {
		argv []string
		want string
	}{
		{[]string{"bmake", "-C", "/xports/devel/hello", "-V", "${PORTNAME}"}, "hello\n"},
		{[]string{"bmake", "-C", "/xports/devel/hello"}, "hello from the slot\n"},
		{[]string{"sh", "-c", "tar -tzf /.npkg/hello.tgz"}, "hello\n"},
		{[]string{"sh", "-c", "echo 'int main(){return 3;}' > /tmp/t.c && gcc -o /tmp/t /tmp/t.c && /tmp/t; echo $?"}, "3\n"},
		// Debian's cc and awk are links into /etc/alternatives: the slot
		// must resolve them to the real tools (not fall back to gcc/mawk).
		{[]string{"sh", "-c", "echo 'int main(){return 4;}' > /tmp/c.c && cc -o /tmp/c /tmp/c.c && /tmp/c; echo $?"}, "4\n"},
		{[]string{"sh", "-c", "echo a b | awk '{print $2}'"}, "b\n"},
		{[]string{"sh", "-c", "ls -l /etc/alternatives/cc /etc/alternatives/awk >/dev/null && echo links"}, "links\n"},
		{[]string{"sh", "-c", "touch /etc/alternatives/probe 2>/dev/null || echo read-only"}, "read-only\n"},
	} {
		var out, errb bytes.Buffer
		st, err := s.Run(context.Background(), isolate.Cmd{Argv: c.argv, Env: env, Stdout: &out, Stderr: &errb})
		if err != nil || st != 0 || !strings.Contains(out.String(), c.want) {
			t.Errorf("%v: status %d err %v stdout %q stderr %q", c.argv, st, err, out.String(), errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(l.OutputDir, "hello.tgz")); err != nil {
		t.Errorf("package not on the host: %v", err)
	}
}

// Cleanup kills a live slot helper named by the slot's pid file: a running
// one ends the slot in order on SIGTERM; a stopped one (it cannot react)
// gets SIGKILL.
func TestCleanupKillsLiveHelper(t *testing.T) {
	needRoot(t)
	for _, stopped := range []bool{false, true} {
		t.Run(map[bool]string{false: "running", true: "stopped"}[stopped], func(t *testing.T) {
			l := testLayout(t)
			var s isolate.Slot
			if stopped {
				// A live parent keeps the stopped helper from being
				// orphaned (which would send it SIGHUP and SIGCONT).
				child := isolatetest.CrashChild(t, l, 3, "sleep 988.25 & echo ready; wait")
				defer func() { child.Process.Kill(); child.Wait() }()
			} else {
				var err error
				if s, err = isolate.Prepare(context.Background(), l, 3); err != nil {
					t.Fatal(err)
				}
			}
			dir := isolate.SlotDir(l.BuildBase, 3)
			b, err := os.ReadFile(filepath.Join(dir, "helper.pid"))
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			if stopped {
				if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
					t.Fatal(err)
				}
			}
			done, err := isolate.Cleanup(l.BuildBase)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"killed slot helper " + strconv.Itoa(pid) + " of " + dir, "removed " + dir}
			if strings.Join(done, "\n") != strings.Join(want, "\n") {
				t.Errorf("Cleanup = %q, want %q", done, want)
			}
			if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil && len(b) > 0 {
				t.Errorf("helper %d still alive", pid)
			}
			if s != nil {
				if _, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"true"}}); err == nil {
					t.Errorf("Run in a cleaned-up slot: no error")
				}
				if err := s.Teardown(); err != nil {
					t.Errorf("Teardown after Cleanup: %v", err)
				}
			}
		})
	}
}

// Host-side mounts below a slot (not made by a helper) are unmounted,
// deepest first, before removal; bind sources survive.
func TestCleanupUnmountsHostMounts(t *testing.T) {
	needRoot(t)
	l := testLayout(t)
	dir := isolate.SlotDir(l.BuildBase, 6)
	os.WriteFile(filepath.Join(l.PackagesDir, "keep.pkg"), []byte("keep"), 0o644)
	for _, d := range []string{"packages", "packages/inner"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	mount := func(src, dst string) {
		if out, err := exec.Command("mount", "--bind", src, dst).CombinedOutput(); err != nil {
			t.Skipf("mount --bind: %v %s", err, out)
		}
	}
	mount(l.PackagesDir, filepath.Join(dir, "packages"))
	os.MkdirAll(filepath.Join(l.PackagesDir, "inner"), 0o755)
	mount(l.DistfilesDir, filepath.Join(dir, "packages/inner"))
	done, err := isolate.Cleanup(l.BuildBase)
	if err != nil {
		t.Fatal(err)
	}
	want := "unmounted " + dir + "/packages/inner\nunmounted " + dir + "/packages\nremoved " + dir
	if strings.Join(done, "\n") != want {
		t.Errorf("Cleanup = %q, want %q", done, want)
	}
	if b, err := os.ReadFile(filepath.Join(l.PackagesDir, "keep.pkg")); err != nil || string(b) != "keep" {
		t.Errorf("bind source touched: %q %v", b, err)
	}
}

// Prepare fails cleanly (and leaves nothing) when the layout cannot be
// built.
func TestPrepareFailureLeavesNothing(t *testing.T) {
	needRoot(t)
	l := testLayout(t)
	l.Mounts = []isolate.Mount{{Source: filepath.Join(t.TempDir(), "missing"), Target: "/missing"}}
	if _, err := isolate.Prepare(context.Background(), l, 1); err == nil || !strings.Contains(err.Error(), "/missing") {
		t.Fatalf("Prepare with a missing mount source: %v", err)
	}
	if _, err := os.Lstat(isolate.SlotDir(l.BuildBase, 1)); !os.IsNotExist(err) {
		t.Errorf("slot dir left behind: %v", err)
	}
}

func BenchmarkSlotPrepareTeardown(b *testing.B) {
	needRoot(b)
	l := testLayout(b)
	for b.Loop() {
		s, err := isolate.Prepare(context.Background(), l, 1)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Teardown(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/slot")
}

// BenchmarkRunTrue measures running /bin/true in a slot against a plain
// fork+exec of it; overhead-ratio is slot time / plain time.
func BenchmarkRunTrue(b *testing.B) {
	needRoot(b)
	l := testLayout(b)
	s, err := isolate.Prepare(context.Background(), l, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Teardown()
	const rounds = 50
	cmd := isolate.Cmd{Argv: []string{"/bin/true"}}
	plain := func() {
		if err := exec.Command("/bin/true").Run(); err != nil {
			b.Fatal(err)
		}
	}
	inSlot := func() {
		if st, err := s.Run(context.Background(), cmd); err != nil || st != 0 {
			b.Fatal(st, err)
		}
	}
	plain()
	inSlot()
	var slotTime, plainTime time.Duration
	for b.Loop() {
		t0 := time.Now()
		for range rounds {
			inSlot()
		}
		t1 := time.Now()
		for range rounds {
			plain()
		}
		slotTime += t1.Sub(t0)
		plainTime += time.Since(t1)
	}
	n := float64(b.N * rounds)
	b.ReportMetric(float64(slotTime.Microseconds())/n, "slot-µs/run")
	b.ReportMetric(float64(plainTime.Microseconds())/n, "plain-µs/run")
	b.ReportMetric(float64(slotTime-plainTime)/n/1e6, "overhead-ms/run")
	b.ReportMetric(float64(slotTime)/float64(plainTime), "overhead-ratio")
}
