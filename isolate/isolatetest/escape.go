package isolatetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/isolate"
)

// The escape suite runs what a hostile port would run, from inside a real
// slot, and fails when anything reaches the host: the root or working
// directory of a process the build can see (/proc/<pid>/root, cwd), its
// descriptors, environment or memory, capabilities that would let the
// build trace or undo the slot, writable kernel knobs, device nodes, the
// packages folder (read-only in the slot: a build writes only its own
// output folder), and the host's abstract Unix sockets.

// AllowedCaps are the capabilities a slot command may hold (Linux bit
// numbers): what a ports build needs as root for staging. Everything else
// must be out of its bounding, permitted, effective and ambient sets.
var AllowedCaps = map[int]string{
	0: "CAP_CHOWN", 1: "CAP_DAC_OVERRIDE", 3: "CAP_FOWNER", 4: "CAP_FSETID",
	6: "CAP_SETGID", 7: "CAP_SETUID", 10: "CAP_NET_BIND_SERVICE",
}

func runEscape(t *testing.T, o Options) {
	t.Run("ProcRootCwd", func(t *testing.T) { escapeProcRoot(t, o) })
	t.Run("ProcPeek", func(t *testing.T) { escapeProcPeek(t, o) })
	t.Run("Descriptors", func(t *testing.T) { escapeDescriptors(t, o) })
	t.Run("Capabilities", func(t *testing.T) { escapeCapabilities(t, o) })
	t.Run("KernelKnobs", func(t *testing.T) { escapeKernelKnobs(t, o) })
	t.Run("DeviceNodes", func(t *testing.T) { escapeDevices(t, o) })
	t.Run("Packages", func(t *testing.T) { escapePackages(t, o) })
	t.Run("Signals", func(t *testing.T) { escapeSignals(t, o) })
	t.Run("AbstractSocket", func(t *testing.T) { escapeAbstractSocket(t, o) })
}

// hostMarker creates a file in a fresh host directory and returns both.
func hostMarker(t *testing.T) (dir, file string) {
	t.Helper()
	dir = t.TempDir()
	file = filepath.Join(dir, "host-marker")
	if err := os.WriteFile(file, []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

// escapeProcRoot probes, for every process the slot sees, its root and
// cwd links, also with a ".." walk (which escapes a chroot through a link
// to a directory outside it).
func escapeProcRoot(t *testing.T, o Options) {
	if !procHasPids(t, o) {
		t.Skip("no per-process /proc links in this implementation's slots")
	}
	f := newFixture(t)
	dir, marker := hostMarker(t)
	s := prepare(t, o, f.layout, 1)
	up := strings.Repeat("/..", 40)
	script := fmt.Sprintf(`sleep 100 & bg=$!
n=0
for p in /proc/[0-9]*; do for l in root cwd; do
  n=$((n+1))
  cat "$p/$l%[1]s" 2>/dev/null && echo "READ $p/$l"
  cat "$p/$l%[2]s%[1]s" 2>/dev/null && echo "READ $p/$l/.."
  (echo x > "$p/$l%[3]s/written") 2>/dev/null && echo "WROTE $p/$l"
  (echo x > "$p/$l%[2]s%[3]s/written") 2>/dev/null && echo "WROTE $p/$l/.."
  test -e "$p/$l/etc/shadow" && echo "SHADOW $p/$l"
done; done
kill $bg
echo "probed $n"
`, marker, up, dir)
	out, _, _ := sh(t, s, script)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "READ ") || strings.HasPrefix(line, "WROTE ") || strings.HasPrefix(line, "SHADOW ") {
			t.Errorf("host reached from the slot: %s", line)
		}
	}
	if !strings.Contains(out, "probed ") || strings.Contains(out, "probed 0\n") {
		t.Errorf("the probe saw no process links: %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "written")); err == nil {
		t.Errorf("a slot command wrote %s on the host", filepath.Join(dir, "written"))
	}
}

// helperPids are the /proc entries of processes other than the command's
// own tree: the slot helper and its kin, as /proc numbers them.
const othersScript = `for p in /proc/[0-9]*; do n=${p#/proc/}; c=$(tr '\0' ' ' < $p/cmdline 2>/dev/null); case "$c" in *slot-helper*) echo $n;; esac; done; true`

func escapeProcPeek(t *testing.T, o Options) {
	if !procHasPids(t, o) {
		t.Skip("no per-process /proc links in this implementation's slots")
	}
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	pids := strings.Fields(mustSh(t, s, othersScript))
	for _, pid := range pids {
		for _, probe := range []string{
			"cat /proc/%s/environ", "for f in /proc/%s/fd/*; do readlink $f; done", "cat /proc/%s/fd/4", "cat /proc/%s/maps", "readlink /proc/%s/exe",
			"readlink /proc/%s/root", "readlink /proc/%s/cwd", "cat /proc/%s/stack", "cat /proc/%s/syscall",
		} {
			cmd := fmt.Sprintf(probe, pid)
			if out, _, st := sh(t, s, cmd+" 2>/dev/null"); st == 0 && strings.TrimSpace(out) != "" {
				t.Errorf("%q read the slot helper's state from the slot: %q", cmd, firstLine(out))
			}
		}
	}
}

func escapeDescriptors(t *testing.T, o Options) {
	if !procHasPids(t, o) {
		t.Skip("no /proc/self/fd in this implementation's slots")
	}
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	// The shell's own descriptors: 0 is /dev/null, 1 and 2 the output
	// pipes; nothing else (no socket to dsynth, no namespace handle, no
	// directory of the host).
	// ls's own descriptors: what it inherited plus the directory it reads.
	out := mustSh(t, s, `ls -l /proc/self/fd/ | sed -n 's/.* \([0-9][0-9]*\) -> \(.*\)/\1 \2/p'`)
	dirs := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fd, target, _ := strings.Cut(line, " ")
		switch {
		case fd == "0":
			if target != "/dev/null" {
				t.Errorf("stdin is %q, want /dev/null", target)
			}
		case fd == "1" || fd == "2":
			if !strings.HasPrefix(target, "pipe:") {
				t.Errorf("fd %s is %q, want a pipe", fd, target)
			}
		case strings.HasPrefix(target, "/proc/") && dirs == 0: // the listing itself
			dirs++
		default:
			t.Errorf("a slot command inherited descriptor %s -> %s", fd, target)
		}
	}
}

func escapeCapabilities(t *testing.T, o Options) {
	if o.SharedHost {
		t.Skip("no Linux capabilities in this implementation")
	}
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	status := mustSh(t, s, "cat /proc/self/status")
	fields := map[string]string{}
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	for _, set := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		v, err := strconv.ParseUint(fields[set], 16, 64)
		if err != nil {
			t.Errorf("%s: %q: %v", set, fields[set], err)
			continue
		}
		for bit := range 64 {
			if v&(1<<bit) != 0 {
				if _, ok := AllowedCaps[bit]; !ok || set == "CapInh" || set == "CapAmb" {
					t.Errorf("slot command holds capability %d in %s (%s)", bit, set, fields[set])
				}
			}
		}
	}
	if fields["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs = %q, want 1", fields["NoNewPrivs"])
	}
}

func escapeKernelKnobs(t *testing.T, o Options) {
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	for _, script := range []string{
		"echo 1 > /proc/sys/kernel/sysrq", "echo h > /proc/sysrq-trigger", "echo 1 > /proc/sys/vm/drop_caches",
		"echo x > /proc/sys/kernel/hostname", "echo /tmp/core > /proc/sys/kernel/core_pattern",
		"test -d /sys/kernel", "test -e /dev/kmsg", "test -e /dev/mem", "test -e /dev/kmem",
	} {
		if out, _, st := sh(t, s, script+" 2>&1"); st == 0 {
			t.Errorf("%q succeeded in the slot: %q", script, out)
		}
	}
}

func escapeDevices(t *testing.T, o Options) {
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	if o.Jail && runtime.GOOS == "freebsd" {
		// devfs ruleset 4 (devfsrules_jail) hides disks, memory and
		// packet filters; FreeBSD has no block devices to look for.
		script := `ls /dev | grep -E '^(ada|da|nvd|nda|vtbd|md|cd|mem$|kmem$|io$|bpf|pci$|klog$)' || true`
		if out := mustSh(t, s, script); strings.TrimSpace(out) != "" {
			t.Errorf("host devices visible in the slot's /dev:\n%s", out)
		}
		return
	}
	if o.SharedHost {
		t.Skip("devfs rules decide the BSD slot's /dev")
	}
	if out := mustSh(t, s, "find / -xdev -type b 2>/dev/null; find /dev -type b 2>/dev/null; true"); strings.TrimSpace(out) != "" {
		t.Errorf("block devices visible in the slot:\n%s", out)
	}
	for _, script := range []string{"mknod /tmp/sda b 8 0", "mknod /tmp/mem c 1 1", "mknod /construction/kmsg c 1 11"} {
		if out, _, st := sh(t, s, script+" 2>&1"); st == 0 {
			t.Errorf("%q succeeded in the slot: %q", script, out)
		}
	}
}

// escapePackages: the packages folder is read-only in the slot; a build
// writes its package only into its own output folder.
func escapePackages(t *testing.T, o Options) {
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	pkg := filepath.Join(f.layout.PackagesDir, "All/port-1.0.pkg")
	for _, script := range []string{
		"echo tampered >> /packages/All/port-1.0.pkg", "rm -f /packages/All/port-1.0.pkg",
		"mv /packages/All /packages/All.old", "ln -s / /packages/All/root", "touch /packages/new.pkg",
		"ln -sfn /etc /packages/All", "chmod 777 /packages/All",
	} {
		if out, _, st := sh(t, s, script+" 2>&1"); st == 0 {
			t.Errorf("%q succeeded in the slot: %q", script, out)
		}
	}
	if b, err := os.ReadFile(pkg); err != nil || string(b) != "package" {
		t.Errorf("another port's package was changed from the slot: %q %v", b, err)
	}
	if fi, err := os.Lstat(filepath.Join(f.layout.PackagesDir, "All")); err != nil || !fi.IsDir() {
		t.Errorf("packages/All replaced from the slot: %v %v", fi, err)
	}
	if f.layout.OutputDir == "" {
		t.Fatal("fixture has no output folder")
	}
	mustSh(t, s, "mkdir -p "+isolate.TargetOutput+"/All && echo built > "+isolate.TargetOutput+"/All/new-1.0.pkg")
	if b, err := os.ReadFile(filepath.Join(f.layout.OutputDir, "All/new-1.0.pkg")); err != nil || string(b) != "built\n" {
		t.Errorf("the output folder did not receive the package: %q %v", b, err)
	}
}

// escapeSignals: a command that signals everything it can reaches neither
// the slot helper nor the host.
func escapeSignals(t *testing.T, o Options) {
	if !o.ownProcesses() {
		t.Skip("implementation shares the host process table")
	}
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	host := exec.Command("sleep", "989.25")
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { host.Process.Kill(); host.Wait() }()
	sh(t, s, fmt.Sprintf("kill -STOP -1; kill -KILL %d 1; kill -KILL -1; true", host.Process.Pid))
	if got := mustSh(t, s, "echo alive"); got != "alive\n" {
		t.Errorf("slot broken after kill -1: %q", got)
	}
	if runtime.GOOS != "linux" { // no /proc/<pid>/stat: alive is all we can ask
		if err := syscall.Kill(host.Process.Pid, 0); err != nil {
			t.Errorf("host process %d gone after kill from the slot: %v", host.Process.Pid, err)
		}
	} else if st, err := procState(host.Process.Pid); err != nil || st == "T" || st == "Z" {
		t.Errorf("host process %d state %q %v after kill from the slot", host.Process.Pid, st, err)
	}
}

func procState(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", err
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return "", fmt.Errorf("stat %q", b)
	}
	return string(b[i+2 : i+3]), nil
}

// escapeAbstractSocket: the host's abstract Unix sockets (D-Bus, systemd,
// X11 live there) belong to the host's network namespace, which a command
// without the network does not share.
func escapeAbstractSocket(t *testing.T, o Options) {
	if o.SharedHost {
		t.Skip("implementation shares the host network")
	}
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed (the probe's client)")
	}
	name := fmt.Sprintf("dsynth-escape-%d-%d", os.Getpid(), time.Now().UnixNano())
	ln, err := net.Listen("unix", "@"+name)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("host\n"))
			c.Close()
		}
	}()
	f := newFixture(t)
	s := prepare(t, o, f.layout, 1)
	probe := fmt.Sprintf(`perl -MSocket -e 'socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die; connect($s, pack_sockaddr_un("\0%s")) or exit 3; print "connected\n"'`, name)
	out, _, st := sh(t, s, probe)
	if st != 3 {
		t.Errorf("abstract socket probe: status %d %q, want 3 (refused)", st, out)
	}
}

// procHasPids reports whether slots of o show per-process /proc entries
// (Linux procfs).
func procHasPids(t *testing.T, o Options) bool {
	return !o.SharedHost
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}
