package execute

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A hostile build controls everything in its output folder: takePackage
// must take only a regular file, and nothing of the host.
func TestTakePackageRefusesWhatIsNotAPackage(t *testing.T) {
	const name = "foo-1.0.pkg"
	hostSecret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(hostSecret, []byte("host secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hostDir := t.TempDir()
	cases := []struct {
		name  string
		setup func(t *testing.T, out string)
		want  string
	}{
		{"symlink to a host file", func(t *testing.T, out string) {
			must(t, os.Symlink(hostSecret, filepath.Join(out, "All", name)))
		}, "is a symlink"},
		{"All is a symlink to a host folder", func(t *testing.T, out string) {
			must(t, os.Remove(filepath.Join(out, "All")))
			must(t, os.WriteFile(filepath.Join(hostDir, name), []byte("x"), 0o644))
			must(t, os.Symlink(hostDir, filepath.Join(out, "All")))
		}, "All"},
		{"hard link", func(t *testing.T, out string) {
			p := filepath.Join(out, "All", name)
			must(t, os.WriteFile(p, []byte("pkg"), 0o644))
			must(t, os.Link(p, filepath.Join(out, "keep")))
		}, `"keep"`},
		{"hard link inside All", func(t *testing.T, out string) {
			p := filepath.Join(out, "All", name)
			must(t, os.WriteFile(filepath.Join(out, "All", ".x"), []byte("pkg"), 0o644))
			must(t, os.Link(filepath.Join(out, "All", ".x"), p))
		}, `".x"`},
		{"FIFO", func(t *testing.T, out string) {
			must(t, syscall.Mkfifo(filepath.Join(out, "All", name), 0o644))
		}, "not a regular file"},
		{"directory", func(t *testing.T, out string) {
			must(t, os.Mkdir(filepath.Join(out, "All", name), 0o755))
		}, "not a regular file"},
		{"nothing built", func(t *testing.T, out string) {}, "no such file"},
		{"nothing at all", func(t *testing.T, out string) { must(t, os.Remove(filepath.Join(out, "All"))) }, "wrote nothing"},
		{"extra file beside the package", func(t *testing.T, out string) {
			must(t, os.WriteFile(filepath.Join(out, "All", name), []byte("pkg"), 0o644))
			must(t, os.WriteFile(filepath.Join(out, "All", "other-2.0.pkg"), []byte("x"), 0o644))
		}, `the build left "other-2.0.pkg" in its output folder`},
		{"extra folder", func(t *testing.T, out string) {
			must(t, os.WriteFile(filepath.Join(out, "All", name), []byte("pkg"), 0o644))
			must(t, os.MkdirAll(filepath.Join(out, "Latest"), 0o755))
		}, `"Latest"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pkgs := t.TempDir()
			must(t, os.MkdirAll(filepath.Join(pkgs, "All"), 0o755))
			out := filepath.Join(pkgs, stagingDir, "SL01")
			must(t, os.MkdirAll(filepath.Join(out, "All"), 0o755))
			c.setup(t, out)
			_, err := takePackage(out, pkgs, name)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("takePackage: %v, want an error containing %q", err, c.want)
			}
			if _, err := os.Lstat(filepath.Join(pkgs, "All", name)); err == nil {
				t.Errorf("%s was published", name)
			}
		})
	}
	if b, err := os.ReadFile(hostSecret); err != nil || string(b) != "host secret\n" {
		t.Errorf("host file touched: %q %v", b, err)
	}
}

func TestTakePackageMovesARegularFile(t *testing.T) {
	pkgs := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(pkgs, "All"), 0o755))
	out := filepath.Join(pkgs, stagingDir, "SL02")
	must(t, os.MkdirAll(filepath.Join(out, "All"), 0o755))
	data := []byte("a package\n")
	must(t, os.WriteFile(filepath.Join(out, "All", "foo-1.0.pkg"), data, 0o600))
	got, err := takePackage(out, pkgs, "foo-1.0.pkg")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got.SHA256 != hex.EncodeToString(sum[:]) || got.Size != int64(len(data)) || got.Path != filepath.Join(pkgs, "All", "foo-1.0.pkg") {
		t.Errorf("took %+v", got)
	}
	fi, err := os.Stat(got.Path)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("published package: %v %v", fi, err)
	}
	if _, err := os.Lstat(filepath.Join(out, "All", "foo-1.0.pkg")); !os.IsNotExist(err) {
		t.Errorf("the package is still in the output folder: %v", err)
	}
	for _, bad := range []string{"", ".", "..", "../x.pkg", "a/b.pkg"} {
		if _, err := takePackage(out, pkgs, bad); err == nil {
			t.Errorf("takePackage(%q) took it", bad)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
