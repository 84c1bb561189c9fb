package plan

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// StandInNames are the uname/sysctl stand-in variables every make
// invocation gets (BSD ports read them instead of running uname/sysctl).
var StandInNames = []string{"ARCH", "OPSYS", "OSREL", "OSVERSION", "UNAME_m", "UNAME_p", "UNAME_r", "UNAME_s", "UNAME_v", "_OSRELEASE"}

// DefaultStandIns returns the stand-ins used when the profile's
// environment.env does not set them. On DragonFly and FreeBSD they
// describe the running host (uname and kern.osreldate); elsewhere they
// describe a DragonFly 6.4 x86_64 host (aarch64 on arm64), so that a Linux
// host plans for the system it would build for.
func DefaultStandIns() map[string]string {
	if m := hostStandIns(); m != nil {
		return m
	}
	arch := "x86_64"
	if runtime.GOARCH == "arm64" {
		arch = "aarch64"
	}
	return map[string]string{
		"OPSYS":      "DragonFly",
		"UNAME_s":    "DragonFly",
		"UNAME_r":    "6.4-RELEASE",
		"UNAME_v":    "DragonFly 6.4-RELEASE",
		"UNAME_m":    arch,
		"UNAME_p":    arch,
		"ARCH":       arch,
		"OSVERSION":  "600400",
		"OSREL":      "6.4",
		"_OSRELEASE": "6.4-RELEASE",
	}
}

// ResolveEnvironment computes the environment identity of a profile: the
// variables every make invocation gets (BATCH=yes, the stand-ins,
// PKG_SUFX, the make.conf variables, then environment.env, later ones
// overriding earlier ones), the system_dir identity, and their key.
// Path variables that differ between host and slot (PORTSDIR, PORT_DBDIR)
// are not in Vars: see Plan.MakeEnv.
func ResolveEnvironment(p *Settings) (Environment, error) {
	vars := map[string]string{"BATCH": "yes"}
	for k, v := range DefaultStandIns() {
		vars[k] = v
	}
	if p.PackageSuffix != "" {
		vars["PKG_SUFX"] = p.PackageSuffix
	}
	for k, v := range p.MakeConf {
		vars[k] = v
	}
	for k, v := range p.Environment.Env {
		vars[k] = v
	}
	sys, err := systemIdentity(p.SystemDir)
	if err != nil {
		return Environment{}, err
	}
	e := Environment{Vars: vars, SystemID: sys}
	e.Key = hashFields(hashMap(vars), sys)
	return e, nil
}

// systemIdFiles are the files whose content identifies a system_dir: OS
// release files and the kernel version headers.
var systemIDFiles = []string{
	"bin/freebsd-version",
	"etc/os-release",
	"etc/debian_version",
	"usr/lib/os-release",
	"usr/include/sys/param.h",
	"usr/include/osreldate.h",
}

// systemIdentity hashes the identity files of dir that exist. Hashing the
// whole base system on every plan would be too slow; these files change
// with every OS release.
func systemIdentity(dir string) (string, error) {
	if dir == "" {
		dir = "/"
	}
	f := []string{}
	for _, n := range systemIDFiles {
		h, err := hashFile(filepath.Join(dir, n))
		if err != nil {
			return "", fmt.Errorf("system_dir %s: %w", dir, err)
		}
		if h != "" {
			f = append(f, n, h)
		}
	}
	return hashFields(f...), nil
}

// Paths are the locations make sees: the host's when dsynth scans, the
// slot's (/xports, /options) when a worker builds.
type Paths struct {
	PortsDir   string
	OptionsDir string
}

// MakeEnv returns the complete sorted "K=V" environment of a make
// invocation for node n: Environment.Vars, PORTSDIR and PORT_DBDIR from
// paths, the node's option variables and its make_env. The scanner uses it
// with the host paths; apply uses it with the slot paths and adds its own
// (DISTDIR, WRKDIRPREFIX, PACKAGES, PATH ...).
func (e *Environment) MakeEnv(n *Node, paths Paths) []string {
	m := make(map[string]string, len(e.Vars)+8)
	for k, v := range e.Vars {
		m[k] = v
	}
	m["PORTSDIR"] = paths.PortsDir
	if paths.OptionsDir != "" {
		m["PORT_DBDIR"] = paths.OptionsDir
	}
	if n != nil {
		for k, v := range n.OptionsEnv {
			m[k] = v
		}
		for k, v := range n.MakeEnv {
			m[k] = v
		}
	}
	return envList(m)
}

// MakeEnv is p.Environment.MakeEnv for one of p's nodes.
func (p *Plan) MakeEnv(n *Node, paths Paths) []string { return p.Environment.MakeEnv(n, paths) }

// MakeArgs returns the make arguments that select the node's flavor
// (FLAVOR=f), to put after `make -C <portdir>`.
func (n *Node) MakeArgs() []string {
	if n.Flavor == "" {
		return nil
	}
	return []string{"FLAVOR=" + n.Flavor}
}

// Node returns the node with the given ID, or nil.
func (p *Plan) Node(id string) *Node {
	i := sort.Search(len(p.Ports), func(i int) bool { return p.Ports[i].ID >= id })
	if i < len(p.Ports) && p.Ports[i].ID == id {
		return &p.Ports[i]
	}
	return nil
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// OptionsName is the ports framework's OPTIONS_NAME of an origin:
// category_port, e.g. editors_vim.
func OptionsName(origin string) string {
	return strings.Replace(origin, "/", "_", 1)
}

// portSettings merges the profile's port blocks for origin and
// origin@flavor (the flavored block wins) into option variables and
// make_env. flavor is the resolved flavor (the default one included).
func portSettings(p *Settings, origin, flavor string) (optEnv, makeEnv map[string]string) {
	var set, unset []string
	keys := []string{origin}
	if flavor != "" {
		keys = append(keys, origin+"@"+flavor)
	}
	for _, k := range keys {
		s, ok := p.Ports[k]
		if !ok {
			continue
		}
		set = append(set, s.OptionsSet...)
		unset = append(unset, s.OptionsUnset...)
		for mk, mv := range s.MakeEnv {
			if makeEnv == nil {
				makeEnv = map[string]string{}
			}
			makeEnv[mk] = mv
		}
	}
	if len(set) > 0 || len(unset) > 0 {
		optEnv = map[string]string{}
		name := OptionsName(origin)
		if len(set) > 0 {
			optEnv[name+"_SET"] = strings.Join(uniqSorted(set), " ")
		}
		if len(unset) > 0 {
			optEnv[name+"_UNSET"] = strings.Join(uniqSorted(unset), " ")
		}
	}
	return optEnv, makeEnv
}

func uniqSorted(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	out := c[:0]
	for i, v := range c {
		if i == 0 || v != c[i-1] {
			out = append(out, v)
		}
	}
	return out
}
