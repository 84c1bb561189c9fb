package replay

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

type member struct {
	name, body string
	mode       int64
	mtime      int64
}

// writeArchive writes members as a tar (gzip-compressed for .tgz).
func writeArchive(t *testing.T, path string, ms []member) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		mode := m.mode
		if mode == 0 {
			mode = 0o644
		}
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: mode, Size: int64(len(m.body)),
			ModTime: time.Unix(m.mtime, 0), Typeflag: tar.TypeReg, Format: tar.FormatGNU}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(m.body))
	}
	tw.Close()
	b := buf.Bytes()
	if filepath.Ext(path) == ".tgz" {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(b)
		zw.Close()
		b = z.Bytes()
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCompareArchives(t *testing.T) {
	base := []member{{name: "+MANIFEST", body: "name: x\n"}, {name: "usr/local/bin/x", body: "0123456789"}}
	with := func(f func(ms []member) []member) []member {
		return f(append([]member(nil), base...))
	}
	big := bytes.Repeat([]byte("a"), 100<<10)
	big2 := append([]byte(nil), big...)
	big2[70000] = 'b'
	for _, c := range []struct {
		name string
		ext  string
		b    []member
		want []MemberDiff
	}{
		{"identical", ".pkg", base, nil},
		{"content", ".tgz", with(func(ms []member) []member { ms[1].body = "0123x56789"; return ms }),
			[]MemberDiff{{Member: "usr/local/bin/x", Field: "content", Offset: 4}}},
		{"longer", ".pkg", with(func(ms []member) []member { ms[1].body = "0123456789!"; return ms }),
			[]MemberDiff{{Member: "usr/local/bin/x", Field: "size", Offset: -1, Detail: "10 -> 11"},
				{Member: "usr/local/bin/x", Field: "content", Offset: 10}}},
		{"mode and mtime", ".pkg", with(func(ms []member) []member { ms[0].mode, ms[0].mtime = 0o755, 315532800; return ms }),
			[]MemberDiff{{Member: "+MANIFEST", Field: "mode", Offset: -1, Detail: "644 -> 755"},
				{Member: "+MANIFEST", Field: "mtime", Offset: -1, Detail: "0 -> 315532800"}}},
		{"extra member", ".pkg", with(func(ms []member) []member { return append(ms, member{name: "usr/local/bin/y"}) }),
			[]MemberDiff{{Member: "usr/local/bin/y", Field: "only in replay", Offset: -1}}},
		{"missing member", ".pkg", base[:1],
			[]MemberDiff{{Member: "usr/local/bin/x", Field: "only in original", Offset: -1}}},
		{"order", ".pkg", with(func(ms []member) []member { ms[1].name = "usr/local/bin/w"; return ms }),
			[]MemberDiff{{Field: "order", Offset: -1, Detail: "original has usr/local/bin/x where the replay has usr/local/bin/w"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			a, b := filepath.Join(dir, "a"+c.ext), filepath.Join(dir, "b"+c.ext)
			writeArchive(t, a, base)
			writeArchive(t, b, c.b)
			got, err := CompareArchives(a, b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %v\nwant %v", got, c.want)
			}
		})
	}
	t.Run("offset beyond the first block", func(t *testing.T) {
		dir := t.TempDir()
		a, b := filepath.Join(dir, "a.tgz"), filepath.Join(dir, "b.tgz")
		writeArchive(t, a, []member{{name: "f", body: string(big)}})
		writeArchive(t, b, []member{{name: "f", body: string(big2)}})
		got, err := CompareArchives(a, b)
		if err != nil || len(got) != 1 || got[0].Offset != 70000 {
			t.Errorf("got %v %v, want content at 70000", got, err)
		}
	})
	t.Run("not an archive", func(t *testing.T) {
		dir := t.TempDir()
		a, b := filepath.Join(dir, "a.tgz"), filepath.Join(dir, "b.tgz")
		os.WriteFile(a, []byte("junk"), 0o644)
		writeArchive(t, b, base)
		if _, err := CompareArchives(a, b); err == nil {
			t.Error("no error for a corrupt archive")
		}
	})
}
