package replay

import (
	"archive/tar"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// MemberDiff is one difference between two package archives.
type MemberDiff struct {
	// Member is the archive member's name ("" when the archives differ
	// in their member lists as a whole).
	Member string `json:"member"`
	// Field is what differs: "content", "size", "mode", "mtime", "owner",
	// "type", "link", "only in original", "only in replay", "order".
	Field string `json:"field"`
	// Offset is the first differing byte of the member's content (Field
	// "content"), -1 otherwise.
	Offset int64 `json:"offset"`
	// Detail shows both values where short.
	Detail string `json:"detail,omitempty"`
}

func (d MemberDiff) String() string {
	s := d.Member
	if s == "" {
		s = "(archive)"
	}
	s += ": " + d.Field
	if d.Offset >= 0 {
		s += fmt.Sprintf(" at offset %d", d.Offset)
	}
	if d.Detail != "" {
		s += " (" + d.Detail + ")"
	}
	return s
}

// maxDiffs bounds the differences reported per package.
const maxDiffs = 8

// CompareArchives returns the first differences (at most maxDiffs)
// between two package archives, member by member in archive order. The
// compression is taken from the file name (.pkg/.tar none, .tgz gzip,
// .tbz bzip2, .txz xz, .tzst zstd; the last two through the xz and zstd
// programs).
func CompareArchives(orig, replay string) ([]MemberDiff, error) {
	ra, closeA, err := openArchive(orig)
	if err != nil {
		return nil, err
	}
	defer closeA()
	rb, closeB, err := openArchive(replay)
	if err != nil {
		return nil, err
	}
	defer closeB()
	ta, tb := tar.NewReader(ra), tar.NewReader(rb)
	var out []MemberDiff
	for len(out) < maxDiffs {
		ha, errA := ta.Next()
		hb, errB := tb.Next()
		if errA != nil && !errors.Is(errA, io.EOF) {
			return out, fmt.Errorf("%s: %w", orig, errA)
		}
		if errB != nil && !errors.Is(errB, io.EOF) {
			return out, fmt.Errorf("%s: %w", replay, errB)
		}
		switch {
		case ha == nil && hb == nil:
			return out, nil
		case hb == nil:
			out = append(out, MemberDiff{Member: ha.Name, Field: "only in original", Offset: -1})
			continue
		case ha == nil:
			out = append(out, MemberDiff{Member: hb.Name, Field: "only in replay", Offset: -1})
			continue
		}
		if ha.Name != hb.Name {
			// The member lists diverge: say where and stop (offsets
			// beyond this point would compare unrelated members).
			out = append(out, MemberDiff{Field: "order", Offset: -1,
				Detail: fmt.Sprintf("original has %s where the replay has %s", ha.Name, hb.Name)})
			return out, nil
		}
		out = append(out, headerDiffs(ha, hb)...)
		if off, err := firstDiff(ta, tb); err != nil {
			return out, err
		} else if off >= 0 {
			out = append(out, MemberDiff{Member: ha.Name, Field: "content", Offset: off})
		}
	}
	return out[:maxDiffs], nil
}

func headerDiffs(a, b *tar.Header) []MemberDiff {
	var out []MemberDiff
	add := func(field string, x, y any) {
		out = append(out, MemberDiff{Member: a.Name, Field: field, Offset: -1, Detail: fmt.Sprintf("%v -> %v", x, y)})
	}
	if a.Typeflag != b.Typeflag {
		add("type", string(a.Typeflag), string(b.Typeflag))
	}
	if a.Size != b.Size {
		add("size", a.Size, b.Size)
	}
	if a.Mode != b.Mode {
		add("mode", fmt.Sprintf("%o", a.Mode), fmt.Sprintf("%o", b.Mode))
	}
	if !a.ModTime.Equal(b.ModTime) {
		add("mtime", a.ModTime.Unix(), b.ModTime.Unix())
	}
	if a.Uid != b.Uid || a.Gid != b.Gid || a.Uname != b.Uname || a.Gname != b.Gname {
		add("owner", fmt.Sprintf("%d:%d %s:%s", a.Uid, a.Gid, a.Uname, a.Gname), fmt.Sprintf("%d:%d %s:%s", b.Uid, b.Gid, b.Uname, b.Gname))
	}
	if a.Linkname != b.Linkname {
		add("link", a.Linkname, b.Linkname)
	}
	return out
}

// firstDiff returns the offset of the first differing byte of two member
// contents (-1 when equal; a shorter content differs at its end).
func firstDiff(a, b io.Reader) (int64, error) {
	ba, bb := make([]byte, 32<<10), make([]byte, 32<<10)
	var off int64
	for {
		na, errA := io.ReadFull(a, ba)
		nb, errB := io.ReadFull(b, bb)
		if errA != nil && !errors.Is(errA, io.EOF) && !errors.Is(errA, io.ErrUnexpectedEOF) {
			return -1, errA
		}
		if errB != nil && !errors.Is(errB, io.EOF) && !errors.Is(errB, io.ErrUnexpectedEOF) {
			return -1, errB
		}
		n := min(na, nb)
		if i := mismatch(ba[:n], bb[:n]); i >= 0 {
			return off + int64(i), nil
		}
		if na != nb {
			return off + int64(n), nil
		}
		if na < len(ba) {
			return -1, nil
		}
		off += int64(na)
	}
}

func mismatch(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}

// openArchive opens a package file as an uncompressed tar stream.
func openArchive(path string) (io.Reader, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	closeF := func() { f.Close() }
	var prog string
	switch {
	case strings.HasSuffix(path, ".tgz"), strings.HasSuffix(path, ".tar.gz"):
		z, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		return z, closeF, nil
	case strings.HasSuffix(path, ".tbz"), strings.HasSuffix(path, ".tar.bz2"):
		return bzip2.NewReader(f), closeF, nil
	case strings.HasSuffix(path, ".txz"), strings.HasSuffix(path, ".tar.xz"):
		prog = "xz"
	case strings.HasSuffix(path, ".tzst"), strings.HasSuffix(path, ".tar.zst"):
		prog = "zstd"
	default:
		return f, closeF, nil
	}
	cmd := exec.Command(prog, "-dc")
	cmd.Stdin = f
	r, err := cmd.StdoutPipe()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %s: %w", path, prog, err)
	}
	return r, func() { r.Close(); cmd.Wait(); f.Close() }, nil
}
