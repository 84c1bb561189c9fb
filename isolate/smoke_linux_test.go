package isolate_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/go-dsynth/dsynth/isolate"
)

func TestMain(m *testing.M) {
	isolate.MaybeRunHelper()
	os.Exit(m.Run())
}

func TestSmoke(t *testing.T) {
	base := t.TempDir()
	for _, d := range []string{"ports", "dist", "pkgs", "opts"} {
		os.Mkdir(base+"/"+d, 0o755)
	}
	l := isolate.Layout{BuildBase: base + "/build", SystemDir: "/", PortsDir: base + "/ports", DistfilesDir: base + "/dist", PackagesDir: base + "/pkgs", OptionsDir: base + "/opts", TmpfsWork: 64 << 20}
	t0 := time.Now()
	s, err := isolate.Prepare(context.Background(), l, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("prepare", time.Since(t0))
	st, err := s.Run(context.Background(), isolate.Cmd{Argv: []string{"sh", "-c", "echo hi; ls /; cat /proc/net/dev; ls /proc; hostname; id; ls -la /dev; pwd; env; cc --version | head -1"}, Stdout: os.Stdout, Stderr: os.Stderr, Env: []string{"PATH=/bin:/usr/bin"}})
	t.Log(st, err)
	t0 = time.Now()
	if err := s.Teardown(); err != nil {
		t.Fatal(err)
	}
	t.Log("teardown", time.Since(t0))
}
