package portgen

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

//go:embed mk pkgport
var embedded embed.FS

// Framework returns the Mk directory (bsd.port.mk, bsd.port.options.mk,
// bsd.options.mk, Scripts/) as a file system rooted at Mk.
func Framework() fs.FS {
	sub, err := fs.Sub(embedded, "mk")
	if err != nil {
		panic(err) // embedded directory names are fixed
	}
	return sub
}

// PkgPort returns the ports-mgmt/pkg port directory as a file system.
func PkgPort() fs.FS {
	sub, err := fs.Sub(embedded, "pkgport")
	if err != nil {
		panic(err)
	}
	return sub
}

// WriteFramework writes the framework into treeDir/Mk and the pkg port
// into treeDir/ports-mgmt/pkg.
func WriteFramework(treeDir string) error {
	if err := CopyFS(filepath.Join(treeDir, "Mk"), Framework()); err != nil {
		return fmt.Errorf("write framework: %w", err)
	}
	if err := CopyFS(filepath.Join(treeDir, "ports-mgmt", "pkg"), PkgPort()); err != nil {
		return fmt.Errorf("write ports-mgmt/pkg: %w", err)
	}
	return nil
}

// CopyFS copies every file of src into dir (created as needed). Shell
// scripts (*.sh, and files starting with "#!") are written executable.
func CopyFS(dir string, src fs.FS) error {
	return fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, fileMode(p, data))
	})
}

func fileMode(name string, data []byte) os.FileMode {
	if strings.HasSuffix(path.Base(name), ".sh") || strings.HasPrefix(string(data), "#!") {
		return 0o755
	}
	return 0o644
}
