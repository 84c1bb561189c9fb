package plan

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// castagnoli is the CRC-32C table dsynth uses (its iscsi_crc32).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// DirHash is the content identity of a directory.
type DirHash struct {
	// SHA256 is the hex SHA-256 over every file's relative path, type,
	// size and content, in lexical order.
	SHA256 string
	// CRC32 is dsynth's directory CRC: CRC-32C values of each file,
	// XOR-combined. dsynth folds each file's mtime, size and path; dsynth
	// here folds its content, size and path (relative to the ports tree),
	// so the value does not change when a checkout touches mtimes.
	CRC32 uint32
	// Files lists each file's relative path with its CRC-32C (the value
	// CRC32 XOR-combines), packed as sorted "path=crc" lines (see
	// packNames). Not part of any key: it only lets a later plan name
	// the files that changed.
	Files string
}

// CRCString formats a CRC as dsynth prints it: 8 lower-case hex digits.
func CRCString(c uint32) string { return fmt.Sprintf("%08x", c) }

// skipName reports whether a directory entry is left out of a port
// directory's identity: dotfiles, core dumps, and work directories.
func skipName(name string, isDir, top bool) bool {
	if strings.HasPrefix(name, ".") {
		return true
	}
	if !isDir && strings.HasSuffix(name, ".core") {
		return true
	}
	if isDir && top && (name == "work" || strings.HasPrefix(name, "work-")) {
		return true
	}
	return false
}

// HashPortDir hashes the port directory portsDir/origin.
func HashPortDir(portsDir, origin string) (DirHash, error) {
	return hashDir(filepath.Join(portsDir, filepath.FromSlash(origin)), origin, nil)
}

// HashTree hashes any directory (the Mk framework, for instance) with the
// same rules as a port directory.
func HashTree(dir string) (DirHash, error) {
	return hashDir(dir, ".", nil)
}

// hashDir hashes dir, naming its files label/rel in the CRC. When names
// is not nil, it also lists what the hash read, relative to dir: "" for
// dir itself, then each subdirectory and file walked, in walk order (the
// plan memo's stat checks).
func hashDir(dir, label string, names *[]string) (DirHash, error) {
	h := sha256.New()
	var crc uint32
	var buf []byte
	var files strings.Builder
	if names != nil {
		*names = append(*names, "")
	}
	err := walkSorted(dir, "", names, func(rel string, d fs.DirEntry) error {
		if names != nil {
			*names = append(*names, rel)
		}
		full := filepath.Join(dir, filepath.FromSlash(rel))
		name := path.Join(label, rel)
		var content []byte
		kind := byte('f')
		if d.Type()&fs.ModeSymlink != 0 {
			t, err := os.Readlink(full)
			if err != nil {
				return err
			}
			kind = 'l'
			content = []byte(t)
		} else {
			f, err := os.Open(full)
			if err != nil {
				return err
			}
			buf, err = readAll(f, buf[:0])
			f.Close()
			if err != nil {
				return err
			}
			content = buf
		}
		writeField(h, []byte(rel))
		h.Write([]byte{kind})
		writeField(h, content)
		var sz [8]byte
		binary.LittleEndian.PutUint64(sz[:], uint64(len(content)))
		v := crc32.Checksum(content, castagnoli)
		v = crc32.Update(v, castagnoli, sz[:])
		v = crc32.Update(v, castagnoli, []byte(name))
		crc ^= v
		files.WriteString(rel)
		files.WriteByte('=')
		files.WriteString(CRCString(v))
		files.WriteByte('\n')
		return nil
	})
	if err != nil {
		return DirHash{}, fmt.Errorf("hash %s: %w", dir, err)
	}
	// A copy of the exact size: every node keeps its Files.
	return DirHash{SHA256: hex.EncodeToString(h.Sum(nil)), CRC32: crc, Files: strings.Clone(files.String())}, nil
}

// walkSorted calls fn for every regular file and symlink under dir in
// lexical order of relative slash paths, skipping what skipName rejects.
// It appends each subdirectory it walks to *dirs when dirs is not nil.
func walkSorted(dir, rel string, dirs *[]string, fn func(rel string, d fs.DirEntry) error) error {
	ents, err := os.ReadDir(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	for _, e := range ents {
		if skipName(e.Name(), e.IsDir(), rel == "") {
			continue
		}
		r := e.Name()
		if rel != "" {
			r = rel + "/" + e.Name()
		}
		switch {
		case e.IsDir():
			if dirs != nil {
				*dirs = append(*dirs, r)
			}
			if err := walkSorted(dir, r, dirs, fn); err != nil {
				return err
			}
		case e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0:
			if err := fn(r, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// writeField writes a length-prefixed field, so that concatenations of
// fields cannot collide.
func writeField(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// hashFields returns the hex SHA-256 of length-prefixed fields.
func hashFields(fields ...string) string {
	h := sha256.New()
	for _, f := range fields {
		writeField(h, []byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashMap returns the hex SHA-256 of a map's sorted key/value pairs.
func hashMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	f := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		f = append(f, k, m[k])
	}
	return hashFields(f...)
}

// hashFile returns the hex SHA-256 of a file's content, read in pieces
// (a package can be large), or "" when it does not exist.
func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
