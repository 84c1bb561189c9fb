package publish

import (
	"archive/tar"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/record"
)

// Folder and file names under packages_dir and logs_dir.
const (
	Latest     = ".latest"   // the published repository (a symlink)
	realPrefix = ".real_"    // one built repository
	stagingDir = ".repo-new" // the repository being built
	LogFile    = "repository.log"
	PubKeyFile = "repository.pub"
	keyDir     = ".repokey" // under build_base: the signing key, for the step alone
)

// In the slot.
const (
	slotKeyDir = "/.repokey"
	slotRepo   = "/.npkg"
	slotPkg    = "/usr/local/sbin/pkg-static"
	slotPath   = "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"
)

// Options say what to publish and how.
type Options struct {
	// Layout is the profile's slot layout (execute.SettingsLayout); its
	// OutputDir is replaced.
	Layout isolate.Layout
	// Slot is the slot number to use (default 1). The caller holds the
	// build-base lock.
	Slot        int
	PackagesDir string
	LogsDir     string
	// PkgFile is the ports-mgmt/pkg package file under PackagesDir/All:
	// its pkg-static builds the catalog.
	PkgFile string
	// SigningKey (an RSA private key file) or SigningCommand signs the
	// catalog; neither: unsigned.
	SigningKey, SigningCommand string
	// Records is the records database the operation is recorded in ("":
	// not recorded); Profile and RunID go in the record.
	Records, Profile, RunID string
	// Prepare makes the slot (default isolate.Prepare).
	Prepare func(ctx context.Context, l isolate.Layout, n int) (isolate.Slot, error)
	// Log receives a copy of the step's output (nil: the log file only).
	Log io.Writer
}

// ErrNoPkg is returned when there is no pkg package to build the
// catalog with.
var ErrNoPkg = errors.New("no pkg package")

// Publish builds the repository catalog of o.PackagesDir/All and
// publishes it. It returns the recorded operation (also on failure, with
// Status failed) and an error saying what went wrong; on any failure or
// interruption the published repository is left as it was.
func Publish(ctx context.Context, o Options) (*record.Operation, error) {
	op := &record.Operation{ID: uuid.NewString(), Kind: record.OpRepository, Profile: o.Profile,
		RunID: o.RunID, Start: time.Now().UTC()}
	err := publish(ctx, o, op)
	op.End = time.Now().UTC()
	op.Status = record.OpOK
	if err != nil {
		if ctx.Err() != nil && !strings.Contains(err.Error(), "interrupted") {
			err = fmt.Errorf("interrupted (the published repository is unchanged): %w", err)
		}
		op.Status, op.Error = record.OpFailed, err.Error()
	}
	if o.Records != "" {
		if rerr := record.AppendOperation(o.Records, op); rerr != nil && err == nil {
			err = fmt.Errorf("repository published at %s, but not recorded: %w", op.Path, rerr)
		}
	}
	return op, err
}

func publish(ctx context.Context, o Options, op *record.Operation) (err error) {
	if o.PackagesDir == "" || !filepath.IsAbs(o.PackagesDir) {
		return fmt.Errorf("repository: packages_dir %q must be an absolute path", o.PackagesDir)
	}
	all := filepath.Join(o.PackagesDir, "All")
	if o.PkgFile == "" {
		return fmt.Errorf("repository: %w: build ports-mgmt/pkg first (its pkg-static builds the catalog)", ErrNoPkg)
	}
	if _, err := os.Stat(filepath.Join(all, o.PkgFile)); err != nil {
		return fmt.Errorf("repository: %w: %s is not in %s: build ports-mgmt/pkg first", ErrNoPkg, o.PkgFile, all)
	}
	latest := filepath.Join(o.PackagesDir, Latest)
	prev, err := currentTarget(latest)
	if err != nil {
		return err
	}
	var pubPEM []byte
	if o.SigningKey != "" {
		if pubPEM, err = publicKeyOf(o.SigningKey); err != nil {
			return err
		}
	}

	// The new repository: hard links to every package (copies across
	// file systems), in a folder of its own.
	staging := filepath.Join(o.PackagesDir, stagingDir)
	if err := os.RemoveAll(staging); err != nil {
		return fmt.Errorf("repository: remove the leftover %s: %w", staging, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(staging)
		}
	}()
	if err := os.MkdirAll(filepath.Join(staging, "All"), 0o755); err != nil {
		return fmt.Errorf("repository: cannot write the new repository in %s: %w", o.PackagesDir, err)
	}
	n, err := linkPackages(all, filepath.Join(staging, "All"))
	if err != nil {
		return err
	}
	op.Count = n

	logf, err := os.Create(filepath.Join(o.LogsDir, LogFile))
	if err != nil {
		return fmt.Errorf("repository: log: %w", err)
	}
	defer logf.Close()
	var log io.Writer = logf
	if o.Log != nil {
		log = io.MultiWriter(logf, o.Log)
	}
	fmt.Fprintf(log, "repository: %d packages of %s, %s\n", n, all, time.Now().UTC().Format(time.RFC3339))

	l := o.Layout
	l.OutputDir = staging
	l.Mounts = append(append([]isolate.Mount(nil), l.Mounts...), isolate.Mount{Source: filepath.Join(staging, "All"), Target: slotRepo + "/All", ReadOnly: true})
	sign := ""
	if o.SigningKey != "" {
		dir := filepath.Join(l.BuildBase, keyDir)
		if err := writeKeyCopy(o.SigningKey, dir); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		l.Mounts = append(l.Mounts, isolate.Mount{Source: dir, Target: slotKeyDir, ReadOnly: true})
		sign = "rsa:" + slotKeyDir + "/repo.key"
	}
	if err := runRepo(ctx, o, l, log, sign); err != nil {
		return err
	}

	// What pkg wrote.
	for _, f := range []string{"meta.conf", "packagesite.pkg"} {
		if _, err := os.Stat(filepath.Join(staging, f)); err != nil {
			return fmt.Errorf("repository: pkg repo wrote no %s (see %s)", f, filepath.Join(o.LogsDir, LogFile))
		}
	}
	if fi, err := os.Stat(filepath.Join(staging, "packagesite.pkg")); err == nil {
		op.Bytes = fi.Size()
	}
	if o.SigningCommand != "" {
		// pkg keeps the command's public key in the catalog (a plain tar
		// here; a compressed one may not be readable: then no fingerprint).
		if pubPEM, err = catalogMember(filepath.Join(staging, "packagesite.pkg"), "packagesite.yaml.pub"); err != nil {
			fmt.Fprintf(log, "signed by signing_command; its public key could not be read from the catalog: %v\n", err)
			pubPEM = nil
		}
	}
	if pubPEM != nil {
		sum := sha256.Sum256(pubPEM)
		op.Fingerprint = hex.EncodeToString(sum[:])
		if err := os.WriteFile(filepath.Join(o.LogsDir, PubKeyFile), pubPEM, 0o644); err != nil {
			return fmt.Errorf("repository: public key: %w", err)
		}
		fmt.Fprintf(log, "signed: public key %s, fingerprint sha256 %s\n", filepath.Join(o.LogsDir, PubKeyFile), op.Fingerprint)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("repository: interrupted before it was published: %w", err)
	}

	// Publish: one rename of the folder, one of the symlink.
	name := realPrefix + strconv.FormatInt(time.Now().UnixNano(), 10)
	dst := filepath.Join(o.PackagesDir, name)
	if err := os.Rename(staging, dst); err != nil {
		return fmt.Errorf("repository: %w", err)
	}
	if err := swapLink(latest, name); err != nil {
		os.RemoveAll(dst)
		return err
	}
	op.Path = dst
	fmt.Fprintf(log, "published: %s -> %s\n", latest, name)
	prune(o.PackagesDir, name, prev)
	return nil
}

// runRepo installs pkg in a fresh slot and runs `pkg-static repo` there.
func runRepo(ctx context.Context, o Options, l isolate.Layout, log io.Writer, sign string) (err error) {
	prepare := o.Prepare
	if prepare == nil {
		prepare = isolate.Prepare
	}
	n := o.Slot
	if n <= 0 {
		n = 1
	}
	slot, err := prepare(ctx, l, n)
	if err != nil {
		return fmt.Errorf("repository: prepare slot: %w", err)
	}
	defer func() {
		if terr := slot.Teardown(); terr != nil && err == nil {
			err = fmt.Errorf("repository: tear down slot: %w", terr)
		}
	}()
	env := []string{"PATH=" + slotPath, "HOME=/root", "TZ=UTC", "LC_ALL=C", "TMPDIR=/tmp"}
	run := func(what string, network bool, argv ...string) error {
		fmt.Fprintf(log, "\n=== %s ===\n%s\n", what, strings.Join(argv, " "))
		st, err := slot.Run(ctx, isolate.Cmd{Argv: argv, Env: env, Stdout: log, Stderr: log, Network: network})
		if err != nil {
			return fmt.Errorf("repository: %s: %w", what, err)
		}
		if st != 0 {
			return fmt.Errorf("repository: %s: exit status %d (see %s)", what, st, filepath.Join(o.LogsDir, LogFile))
		}
		return nil
	}
	if err := run("bootstrap "+o.PkgFile, false, "tar", "-xf", isolate.TargetPackages+"/All/"+o.PkgFile, "-C", "/", "--exclude", "+*"); err != nil {
		return err
	}
	argv := []string{slotPkg, "repo", slotRepo}
	network := false
	switch {
	case sign != "":
		argv = append(argv, sign)
	case o.SigningCommand != "":
		argv = append(argv, "signing_command:", o.SigningCommand)
		network = true
	}
	return run("pkg repo", network, argv...)
}

// currentTarget returns the folder name .latest points to ("" when there
// is no published repository yet).
func currentTarget(latest string) (string, error) {
	fi, err := os.Lstat(latest)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("repository: %w", err)
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		return "", fmt.Errorf("repository: %s is not a symlink: dsynth publishes by switching that symlink; move it aside", latest)
	}
	t, err := os.Readlink(latest)
	if err != nil {
		return "", fmt.Errorf("repository: %w", err)
	}
	return t, nil
}

// swapLink points link at target in one rename.
func swapLink(link, target string) error {
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("repository: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("repository: switch %s: %w", link, err)
	}
	if d, err := os.Open(filepath.Dir(link)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// prune removes the built repositories other than cur and prev.
func prune(dir, cur, prev string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if name := e.Name(); strings.HasPrefix(name, realPrefix) && e.IsDir() && name != cur && name != filepath.Base(prev) {
			os.RemoveAll(filepath.Join(dir, name))
		}
	}
}

// linkPackages hard-links (or copies) every package file of src into dst
// and returns how many.
func linkPackages(src, dst string) (int, error) {
	ents, err := os.ReadDir(src)
	if err != nil {
		return 0, fmt.Errorf("repository: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		s, d := filepath.Join(src, name), filepath.Join(dst, name)
		if err := os.Link(s, d); err != nil {
			if !errors.Is(err, syscall.EXDEV) && !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EMLINK) {
				return 0, fmt.Errorf("repository: link %s: %w", s, err)
			}
			if err := copyFile(s, d); err != nil {
				return 0, fmt.Errorf("repository: copy %s: %w", s, err)
			}
		}
	}
	return len(names), nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// publicKeyOf reads an RSA private key (PEM, PKCS#1 or PKCS#8) and
// returns its public key in PEM (PKIX), as pkg prints it.
func publicKeyOf(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("repository: signing_key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("repository: signing_key %s: not a PEM file (pkg repo needs an RSA private key, e.g. from `openssl genrsa -out repo.key 4096`)", file)
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		key = k
	} else if k8, err8 := x509.ParsePKCS8PrivateKey(blk.Bytes); err8 == nil {
		rk, ok := k8.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("repository: signing_key %s: a %T, not an RSA key (pkg repo signs with RSA)", file, k8)
		}
		key = rk
	} else {
		return nil, fmt.Errorf("repository: signing_key %s: not an RSA private key (%s block: %v)", file, blk.Type, err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("repository: signing_key %s: %w", file, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), nil
}

// writeKeyCopy copies the key file into dir (0700) as repo.key (0400).
func writeKeyCopy(key, dir string) error {
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("repository: key folder: %w", err)
	}
	b, err := os.ReadFile(key)
	if err != nil {
		return fmt.Errorf("repository: signing_key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "repo.key"), b, 0o400); err != nil {
		return fmt.Errorf("repository: key copy: %w", err)
	}
	return nil
}

// catalogMember returns member name of the packagesite.pkg archive.
func catalogMember(file, name string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s has no %s", filepath.Base(file), name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(file), err)
		}
		if h.Name == name {
			return io.ReadAll(io.LimitReader(tr, 1<<20))
		}
	}
}
