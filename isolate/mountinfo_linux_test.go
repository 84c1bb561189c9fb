package isolate

import (
	"slices"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	data := []byte(`22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
35 22 0:30 / /tmp/with\040space rw - tmpfs tmpfs rw
36 22 0:31 / /tmp/back\134slash rw - tmpfs tmpfs rw
short line
`)
	got := parseMountinfo(data)
	want := []string{"/", "/tmp/with space", `/tmp/back\slash`}
	if !slices.Equal(got, want) {
		t.Errorf("parseMountinfo = %q, want %q", got, want)
	}
}

func TestBlankField(t *testing.T) {
	in := "root:$6$h:0:0::/root:/bin/sh\nbin:x:1:1::/:/bin/false\n#c:$1$\nnp::2:2::/:/bin/sh\nlocked:!:3:3::/:/bin/sh"
	want := "root:*:0:0::/root:/bin/sh\nbin:x:1:1::/:/bin/false\n#c:$1$\nnp::2:2::/:/bin/sh\nlocked:!:3:3::/:/bin/sh"
	if got := string(blankField([]byte(in), 1)); got != want {
		t.Errorf("blankField:\n%s\nwant\n%s", got, want)
	}
}
