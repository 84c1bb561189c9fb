package plan

import (
	"maps"
	"testing"

	"github.com/go-dsynth/dsynth/plan/portscan"
)

// A cache entry decodes to what was encoded; a truncated, extended or
// foreign (JSON, an older scan version) entry is a miss, never a wrong
// value.
func TestScanCacheEncoding(t *testing.T) {
	vars := map[string]string{}
	for i, v := range portscan.Vars {
		vars[v] = v + " value " + string(rune('a'+i%26))
	}
	vars["IGNORE"] = ""
	for _, ext := range []map[string]string{nil, {"/usr/share/mk/sys.mk": "h1", "/x/y/": "h2"}} {
		b := encodeScan(vars, ext)
		gv, ge, ok := decodeScan(b)
		if !ok || !maps.Equal(gv, vars) || !maps.Equal(ge, ext) {
			t.Fatalf("decode(encode) = %v, %v, %v", ok, gv, ge)
		}
		if string(encodeScan(vars, ext)) != string(b) {
			t.Error("encoding is not deterministic")
		}
		for n := range len(b) {
			if _, _, ok := decodeScan(b[:n]); ok {
				t.Fatalf("truncated to %d of %d bytes: decoded", n, len(b))
			}
		}
		if _, _, ok := decodeScan(append(b, 0)); ok {
			t.Error("trailing byte: decoded")
		}
	}
	if _, _, ok := decodeScan([]byte(`{"vars":{"PKGNAME":"x-1"}}`)); ok {
		t.Error("a JSON entry (scan version 4) decoded")
	}
}
