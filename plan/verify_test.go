package plan

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	cases := []struct {
		name   string
		change func(t *testing.T, p *Plan)
		want   []string // Change.String()
	}{
		{"unchanged", func(*testing.T, *Plan) {}, nil},
		{"port edited", func(t *testing.T, p *Plan) {
			appendFile(t, filepath.Join(p.Tree.Path, "devel/lib/Makefile"), "# x\n")
		}, []string{"devel/lib: port directory changed (crc32 " + "CRC" + " -> NEW)"}},
		{"dotfile and work ignored", func(t *testing.T, p *Plan) {
			appendFile(t, filepath.Join(p.Tree.Path, "devel/lib/.swp"), "x")
			appendFile(t, filepath.Join(p.Tree.Path, "devel/lib/work/obj.o"), "x")
		}, nil},
		{"port removed", func(t *testing.T, p *Plan) {
			os.RemoveAll(filepath.Join(p.Tree.Path, "devel/mid"))
		}, []string{"devel/mid: port directory " + "TREE/devel/mid is gone"}},
		{"framework", func(t *testing.T, p *Plan) {
			appendFile(t, filepath.Join(p.Tree.Path, "Mk/bsd.port.mk"), "# x\n")
		}, []string{"Mk framework changed (TREE/Mk)"}},
		{"options file", func(t *testing.T, p *Plan) {
			writeFiles(t, p.Settings.OptionsDir, map[string]string{"devel_lib/options": "OPTIONS_FILE_SET+=X11\n"})
		}, []string{"devel/lib: options file changed"}},
		{"environment", func(t *testing.T, p *Plan) {
			p.Settings.Environment.Env["OSVERSION"] = "700000"
		}, []string{`OSVERSION changed from "600400" to "700000"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tree := miniTree(t)
			base := t.TempDir()
			p, _ := mustCreate(t, Options{Profile: testProfile(tree, base, "devel/app")})
			// Round trip through the file, as apply reads it.
			b, err := Encode(p)
			if err != nil {
				t.Fatal(err)
			}
			p, err = Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			c.change(t, p)
			ch, err := Verify(t.Context(), p)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range ch {
				got = append(got, x.String())
			}
			var want []string
			for _, w := range c.want {
				if c.name == "port edited" {
					h, _ := HashPortDir(tree, "devel/lib")
					w = "devel/lib: port directory changed (crc32 " + p.Node("devel/lib").CRC32 + " -> " + CRCString(h.CRC32) + ")"
				}
				want = append(want, strings.ReplaceAll(w, "TREE", tree))
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("changes:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestHashPortDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"c/p/Makefile": "A\n", "c/p/files/x": "x\n"})
	h1, err := HashPortDir(dir, "c/p")
	if err != nil {
		t.Fatal(err)
	}
	// Same content elsewhere, same origin: same hashes.
	dir2 := t.TempDir()
	writeFiles(t, dir2, map[string]string{"c/p/Makefile": "A\n", "c/p/files/x": "x\n", "c/p/.git/x": "y", "c/p/work/a": "b", "c/p/x.core": "z"})
	h2, _ := HashPortDir(dir2, "c/p")
	if h1 != h2 {
		t.Fatalf("hash depends on location or ignored files: %v vs %v", h1, h2)
	}
	// A rename changes both.
	writeFiles(t, dir2, map[string]string{"c/p/files/y": "x\n"})
	os.Remove(filepath.Join(dir2, "c/p/files/x"))
	h3, _ := HashPortDir(dir2, "c/p")
	if h3.SHA256 == h1.SHA256 || h3.CRC32 == h1.CRC32 {
		t.Fatal("rename not detected")
	}
	if len(CRCString(h1.CRC32)) != 8 {
		t.Fatal("CRC string")
	}
}
