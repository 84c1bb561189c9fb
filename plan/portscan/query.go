package portscan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Vars are the variables Query asks for, in order.
var Vars = append([]string{
	"PKGNAME", "PKGVERSION", "PKGFILE", "ALLFILES", "DIST_SUBDIR",
	"MAKE_JOBS_NUMBER", "IGNORE", "BROKEN",
	"FETCH_DEPENDS", "EXTRACT_DEPENDS", "PATCH_DEPENDS", "BUILD_DEPENDS",
	"LIB_DEPENDS", "RUN_DEPENDS", "TEST_DEPENDS",
	"SELECTED_OPTIONS", "DESELECTED_OPTIONS", "FLAVORS", "USES",
	// Not in the port contract, but every BSD make has them: the
	// makefiles read and the master port directory, so that a cache can
	// notice changes outside the port directory.
	"MASTERDIR", ".MAKE.MAKEFILES",
	// The rest of the evaluated recipe (RecipeOnlyVars).
}, RecipeOnlyVars...)

// RecipeOnlyVars are the variables asked for only for the recipe: what
// decides how the port is built beyond the values above (the default
// rebuild policy keys on them, see RecipeVars): the configure and make
// arguments and environments, the compilers (USES=compiler changes them)
// and flags, the patches the framework adds, the phase targets, the
// packing list substitutions, the prefix, the distfiles and the source
// directory.
var RecipeOnlyVars = []string{"CONFIGURE_ARGS", "CONFIGURE_ENV", "MAKE_ENV", "MAKE_ARGS", "CFLAGS", "CXXFLAGS",
	"CPPFLAGS", "LDFLAGS", "PLIST_SUB", "PLIST_FILES", "PREFIX", "DISTFILES",
	"CC", "CXX", "EXTRA_PATCHES", "PATCHFILES", "ALL_TARGET", "INSTALL_TARGET", "WRKSRC"}

// RecipeVars are the values of a scan that make up a port's evaluated
// recipe: every variable asked for except the makefile list and the
// master directory (paths, not recipe) and MAKE_JOBS_NUMBER (how many
// jobs, not what is built).
var RecipeVars = func() []string {
	var out []string
	for _, v := range Vars {
		switch v {
		case "MASTERDIR", ".MAKE.MAKEFILES", "MAKE_JOBS_NUMBER":
			continue
		}
		out = append(out, v)
	}
	return out
}()

// MakeError is a make invocation that failed.
type MakeError struct {
	Dir    string
	Flavor string
	// Status is the exit status (-1 if make could not be run).
	Status int
	// Stderr holds the first lines of make's standard error.
	Stderr string
	Err    error
}

func (e *MakeError) Error() string {
	s := fmt.Sprintf("make -V failed in %s", e.Dir)
	if e.Flavor != "" {
		s += " (FLAVOR=" + e.Flavor + ")"
	}
	switch {
	case e.Status > 0 || (e.Status == 0 && e.Err == nil):
		s += fmt.Sprintf(": exit status %d", e.Status)
	case e.Err != nil:
		s += ": " + e.Err.Error() // could not run, or printed nonsense
	}
	if e.Stderr != "" {
		s += ": " + e.Stderr
	}
	return s
}

func (e *MakeError) Unwrap() error { return e.Err }

// maxStderrLines bounds the stderr kept in a MakeError.
const maxStderrLines = 5

// QueryTimeout bounds one make -V: a port whose makefiles hang (a != shell
// assignment that never ends, say) fails with a timeout instead of holding
// the plan forever.
const QueryTimeout = 2 * time.Minute

// Bounds on what a make -V may print: its values (a whole port's
// metadata) and its standard error (only the start is kept).
const (
	maxQueryOutput = 16 << 20
	maxQueryStderr = 64 << 10
)

// Query runs makeCmd in portDir with env (the complete environment) and
// returns the value of every name in Vars. flavor "" selects the port's
// default flavor. make runs in its own process group, killed whole on
// cancellation or after QueryTimeout.
func Query(ctx context.Context, makeCmd, portDir, flavor string, env []string) (map[string]string, error) {
	return QueryWithin(ctx, QueryTimeout, makeCmd, portDir, flavor, env)
}

// QueryWithin is Query with another timeout.
func QueryWithin(ctx context.Context, timeout time.Duration, makeCmd, portDir, flavor string, env []string) (map[string]string, error) {
	args := []string{"-C", portDir}
	if flavor != "" {
		args = append(args, "FLAVOR="+flavor)
	}
	for _, v := range Vars {
		args = append(args, "-V", "${"+v+"}")
	}
	qctx, cancel := context.WithTimeoutCause(ctx, timeout, errQueryTimeout)
	defer cancel()
	cmd := exec.CommandContext(qctx, makeCmd, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second // a grandchild holding the pipes
	out, stderr := &capped{max: maxQueryOutput}, &capped{max: maxQueryStderr}
	cmd.Stdout = out
	cmd.Stderr = stderr
	err := cmd.Run()
	if err == nil && out.over {
		err = fmt.Errorf("make printed more than %d bytes", maxQueryOutput)
		return nil, &MakeError{Dir: portDir, Flavor: flavor, Status: 0, Err: err, Stderr: firstLines(stderr.String(), maxStderrLines)}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if context.Cause(qctx) == errQueryTimeout {
			return nil, &MakeError{Dir: portDir, Flavor: flavor, Status: -1,
				Err: fmt.Errorf("timed out after %s", timeout), Stderr: firstLines(stderr.String(), maxStderrLines)}
		}
		me := &MakeError{Dir: portDir, Flavor: flavor, Status: -1, Err: err, Stderr: firstLines(stderr.String(), maxStderrLines)}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			me.Status = ee.ExitCode()
		}
		return nil, me
	}
	s := out.String()
	s = strings.TrimSuffix(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) != len(Vars) {
		return nil, &MakeError{Dir: portDir, Flavor: flavor, Status: 0,
			Err:    fmt.Errorf("make printed %d lines for %d variables", len(lines), len(Vars)),
			Stderr: firstLines(stderr.String(), maxStderrLines)}
	}
	m := make(map[string]string, len(Vars))
	for i, v := range Vars {
		m[v] = strings.TrimSpace(lines[i])
	}
	return m, nil
}

// firstLines returns the first n lines of s, each cut at 300 bytes,
// joined with " | ".
func firstLines(s string, n int) string {
	s = strings.TrimSpace(s)
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	for i, l := range lines {
		if len(l) > 300 {
			lines[i] = strings.ToValidUTF8(l[:300], "") + "..."
		}
	}
	return strings.Join(lines, " | ")
}

var errQueryTimeout = errors.New("make -V timed out")

// capped is a buffer that keeps the first max bytes written to it and
// notes whether more came.
type capped struct {
	bytes.Buffer
	max  int
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room < len(p) {
		c.over = true
		if room > 0 {
			c.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return c.Buffer.Write(p)
}
