package portgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkGenerate2000 writes a 2,000-port tree (the planner's benchmark
// size).
func BenchmarkGenerate2000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if err := Generate(b.TempDir(), Options{N: 2000, Seed: uint64(i)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrivialPort measures the framework's own cost for one trivial
// generated port: `make package` from a clean work directory (every phase,
// package written), the per-port floor under any orchestration overhead.
func BenchmarkTrivialPort(b *testing.B) {
	mk, err := exec.LookPath("bmake")
	if err != nil {
		b.Skip("no bmake")
	}
	dir, root := b.TempDir(), b.TempDir()
	t, err := Build(Options{N: 1, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if err := t.Write(dir); err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "PORTSDIR="+dir, "WRKDIRPREFIX="+root+"/w", "PACKAGES="+root+"/p",
		"LOCALBASE="+root+"/usr/local", "PKG_DBDIR="+root+"/db", "PORT_DBDIR="+root+"/o",
		"DISTDIR="+root+"/d", "__MAKE_CONF=/nonexistent", "OPSYS=Linux", "ARCH=x86_64",
		"_HOST_OSNAME=Linux", "_HOST_OSREL=0", "_HOST_MACHINE=x86_64", "_HOST_ARCH=x86_64")
	portDir := filepath.Join(dir, t.Ports[0].Origin)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(mk, "-C", portDir, "clean", "package")
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
}
