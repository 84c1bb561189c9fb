package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/go-dsynth/dsynth/isolate"
)

// Version is the dsynth version, set with -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

// Exit codes shared by every command.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan -detailed-exitcode: something to build
	exitFailed  = 3 // apply: the run completed with failed or skipped ports; fetch: some ports failed; test: a check failed
)

// command is one dsynth subcommand.
type command struct {
	name     string
	synopsis string // one line for `dsynth help`
	usage    string // "dsynth NAME [flags] ARGS" line
	// flags declares the command's flags on fs; it returns the function
	// that runs the command with the positional arguments.
	flags func(fs *flag.FlagSet) func(args []string) error
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("duplicate command " + c.name)
	}
	commands[c.name] = c
}

// exitError carries an explicit exit code through an error.
type exitCodeError struct {
	code int
	err  error // may be nil: exit silently with code
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitCodeError) Unwrap() error { return e.err }

// withCode returns an error that makes dsynth exit with code; err (may be
// nil) is printed to stderr.
func withCode(code int, err error) error { return &exitCodeError{code: code, err: err} }

// errReported is an error already shown to the user (e.g. diagnostics).
var errReported = errors.New("reported")

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	return exitError
}

func main() {
	// A slot helper is this binary re-executed by isolate.Prepare.
	isolate.MaybeRunHelper()
	setGCPercent()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// setGCPercent makes the garbage collector keep the heap within 1.5x the
// live data instead of Go's default 2x, unless GOGC is set. A plan of a
// large tree holds the metadata cache, the scan results and the graph at
// once: a warm plan of 30,000 ports peaked at 370-470 MB with the default
// and at about 335 MB with 50, in the same time (BenchmarkPlan30000RSS).
func setGCPercent() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}

var stdout io.Writer = os.Stdout

func run(args []string, out, errw io.Writer) int {
	stdout, stderr = out, errw
	if len(args) == 0 {
		usage(errw)
		return exitError
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fs := newFlagSet(c, out)
				c.flags(fs) // declare the flags so that Usage lists them
				fs.Usage()
				return exitOK
			}
			fmt.Fprintf(errw, "dsynth help: unknown command %q.%s\n\n", args[1], commandHint(args[1]))
			usage(errw)
			return exitError
		}
		usage(out)
		return exitOK
	case "version", "-version", "--version":
		fmt.Fprintf(out, "dsynth %s\n", Version)
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(errw, "dsynth: unknown command %q.%s\n\n", name, commandHint(name))
		usage(errw)
		return exitError
	}
	fs := newFlagSet(c, errw)
	runFn := c.flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if h := flagHint(fs, err); h != "" {
			fmt.Fprintf(errw, "\n%s\n", h)
		}
		return exitError
	}
	err := runFn(fs.Args())
	if err != nil {
		var ec *exitCodeError
		switch {
		case errors.As(err, &ec) && ec.err == nil:
		case errors.Is(err, errReported):
		default:
			fmt.Fprintf(errw, "dsynth %s: %v\n", name, err)
		}
	}
	return exitCode(err)
}

func newFlagSet(c *command, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("dsynth "+c.name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: %s\n\n%s\n", c.usage, c.synopsis)
		has := false
		fs.VisitAll(func(*flag.Flag) { has = true })
		if has {
			fmt.Fprintf(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	if c.flags == nil {
		panic("command without flags func: " + c.name)
	}
	return fs
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "dsynth %s: declarative, reproducible bulk package builder for BSD ports trees\n\n", Version)
	fmt.Fprintf(w, "Usage: dsynth COMMAND [flags] [args]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	width := len("version")
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s %s\n", width, n, commands[n].synopsis)
	}
	fmt.Fprintf(w, "  %-*s %s\n", width, "version", "Print the dsynth version")
	fmt.Fprintf(w, "\nRun `dsynth help COMMAND` or `dsynth COMMAND -h` for a command's flags.\n")
	fmt.Fprintf(w, "Exit codes: 0 ok, 1 error, 2 changes present (plan -detailed-exitcode), 3 run completed with failures\n")
	fmt.Fprintf(w, "(fetch: some ports' distfiles could not be fetched; test: a check failed), 130 apply or replay stopped at once by a second interrupt;\n")
	fmt.Fprintf(w, "replay: bits 2 some package differs, 4 some port failed or was skipped, 8 some package has no original.\n")
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// lockWarn reports a dead holder's build-base lock taken over.
func lockWarn(msg string) { fmt.Fprintf(stderr, "dsynth: warning: %s\n", msg) }
