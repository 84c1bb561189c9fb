package isolate

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fakeSystem builds a small merged-/usr system directory.
func fakeSystem(t *testing.T) string {
	t.Helper()
	sys := t.TempDir()
	dirs := []string{"usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "usr/include", "usr/share", "usr/libexec", "usr/src", "etc/ld.so.conf.d", "etc/alternatives", "etc/ssh", "run/resolv", "home/u"}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(sys, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, dest := range map[string]string{"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64", "etc/resolv.conf": "/run/resolv/resolv.conf", "etc/localtime": "../usr/share/UTC"} {
		if err := os.Symlink(dest, filepath.Join(sys, link)); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"etc/passwd":                 "root:$6$salt$hash:0:0:root:/root:/bin/sh\n#comment:$x\nbin:x:1:1::/:/bin/false\nnobody:*:65534:65534::/:/bin/false\n",
		"etc/group":                  "wheel:secret:0:root\nbin:x:1:\n",
		"etc/shadow":                 "root:$6$salt$hash:::::::\n",
		"etc/master.passwd":          "root:$6$salt$hash:0:0::0:0:root:/root:/bin/sh\n",
		"etc/ssh/ssh_host_rsa_key":   "PRIVATE\n",
		"etc/hosts":                  "127.0.0.1 localhost\n",
		"etc/ld.so.conf.d/libc.conf": "/usr/local/lib\n",
		"run/resolv/resolv.conf":     "nameserver 10.0.0.1\n",
		"usr/share/UTC":              "TZif\n",
	}
	for p, c := range files {
		if err := os.WriteFile(filepath.Join(sys, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return sys
}

func renderEntries(es []Entry, sys string) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "%-7s %s", e.Op, e.Target)
		if e.Source != "" {
			fmt.Fprintf(&b, " <- %s", strings.Replace(e.Source, sys, "$SYS", 1))
		}
		if e.ReadOnly {
			b.WriteString(" ro")
		}
		if e.Size != 0 {
			fmt.Fprintf(&b, " size=%d", e.Size)
		}
		if e.Mode != 0 {
			fmt.Fprintf(&b, " mode=%o", uint32(e.Mode))
		}
		if e.Data != nil {
			fmt.Fprintf(&b, " data=%q", e.Data)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestEntriesGolden(t *testing.T) {
	sys := fakeSystem(t)
	l := Layout{
		BuildBase: "/build", SystemDir: sys,
		PortsDir: "/ports", DistfilesDir: "/build/distfiles", PackagesDir: "/build/packages",
		TmpfsWork: 1 << 30, TmpfsLocalbase: 256 << 20,
		Mounts: []Mount{{Source: "/ccache", Target: "/root/.ccache"}, {Source: "/opt/x", Target: "/opt", ReadOnly: true}},
	}
	es, err := Entries(l)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(renderEntries(es, sys), sys, "$SYS")
	golden := filepath.Join("testdata", "entries.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("entries differ from %s (run with -update):\n%s", golden, got)
	}
	for _, secret := range []string{"$6$", "secret", "PRIVATE", "shadow", "master.passwd", "ssh"} {
		if strings.Contains(got, secret) {
			t.Errorf("layout carries %q", secret)
		}
	}
}

func TestEntriesInvalid(t *testing.T) {
	ok := Layout{BuildBase: "/b", PortsDir: "/p"}
	for _, c := range []struct {
		name string
		mod  func(*Layout)
		want string
	}{
		{"relative base", func(l *Layout) { l.BuildBase = "b" }, "must be an absolute path"},
		{"root base", func(l *Layout) { l.BuildBase = "/" }, "may not be /"},
		{"relative system", func(l *Layout) { l.SystemDir = "sys" }, "system dir"},
		{"relative ports", func(l *Layout) { l.PortsDir = "ports" }, "ports_dir \"ports\" must be an absolute path"},
		{"packages in slot", func(l *Layout) { l.PackagesDir = "/b/SL01/packages" }, "lies inside slot directory /b/SL01"},
		{"mount without source", func(l *Layout) { l.Mounts = []Mount{{Target: "/x"}} }, "has no source"},
		{"relative target", func(l *Layout) { l.Mounts = []Mount{{Source: "/s", Target: "x"}} }, "must be an absolute path"},
		{"dotdot target", func(l *Layout) { l.Mounts = []Mount{{Source: "/s", Target: "/a/../../etc"}} }, "without .."},
		{"builtin target", func(l *Layout) { l.Mounts = []Mount{{Source: "/s", Target: "/usr/local/"}} }, "replaces a builtin"},
		{"negative size", func(l *Layout) { l.TmpfsWork = -1 }, "negative tmpfs size"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := ok
			c.mod(&l)
			_, err := Entries(l)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
	// packages under the build base but outside slots is fine.
	l := ok
	l.SystemDir = t.TempDir()
	l.PackagesDir = "/b/packages"
	if _, err := Entries(l); err != nil {
		t.Errorf("packages under the build base: %v", err)
	}
}

func TestSlotNames(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{0, "SL00"}, {1, "SL01"}, {12, "SL12"}, {123, "SL123"}} {
		if got := SlotName(c.n); got != c.want || !isSlotName(got) {
			t.Errorf("SlotName(%d) = %q", c.n, got)
		}
	}
	for _, name := range []string{"SL", "SL1", "SLx1", "sl01", "SL01a", "packages"} {
		if isSlotName(name) {
			t.Errorf("isSlotName(%q) = true", name)
		}
	}
	if got := SlotDir("/b", 3); got != "/b/SL03" {
		t.Errorf("SlotDir = %q", got)
	}
}

func TestWithin(t *testing.T) {
	for _, c := range []struct {
		p, dir string
		want   bool
	}{
		{"/b/SL01", "/b/SL01", true}, {"/b/SL01/usr", "/b/SL01", true}, {"/b/SL010", "/b/SL01", false},
		{"/b", "/b/SL01", false}, {"/x", "/", true},
	} {
		if got := within(c.p, c.dir); got != c.want {
			t.Errorf("within(%q, %q) = %v", c.p, c.dir, got)
		}
	}
}

func TestRemoveTreeRefusesMountedBelow(t *testing.T) {
	// removeTree checks the mount table first: a directory holding a
	// mount point of this process is refused as a whole.
	ms, err := mountPoints()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m != "/" && strings.Count(m, "/") >= 2 {
			parent := filepath.Dir(m)
			if err := removeTree(parent); err == nil || !strings.Contains(err.Error(), "live mounts below it") {
				t.Fatalf("removeTree(%s) with mount %s below: %v", parent, m, err)
			}
			return
		}
	}
	t.Skip("no nested mount point on this host")
}
