package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/isolate/lock"
)

func init() {
	register(&command{
		name:     "cleanup",
		synopsis: "Remove the build slots (mounts, helpers, directories) a crashed run left in the build base",
		usage:    "dsynth cleanup [-profile NAME] [-var NAME=VALUE]... [-var-file FILE]... PROFILE.hcl\n       dsynth cleanup -build-base DIR",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var pf profileFlags
			pf.register(fs)
			buildBase := fs.String("build-base", "", "clean `DIR` instead of the profile's build_base (no profile needed)")
			return func(args []string) error {
				base := *buildBase
				if base == "" {
					path, err := oneArg(args, "the profile file")
					if err != nil {
						return err
					}
					l, err := pf.load(path)
					if err != nil {
						return err
					}
					base = l.Profile.BuildBase
				} else if len(args) > 0 {
					return fmt.Errorf("-build-base takes no profile argument")
				}
				return runCleanup(base, stdout)
			}
		},
	})
}

// runCleanup takes the build-base lock (refusing while a live dsynth holds
// it), removes leftover slots and prints what it did.
func runCleanup(buildBase string, w io.Writer) error {
	if fi, err := os.Stat(buildBase); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(w, "nothing to clean: build base %s does not exist\n", buildBase)
		return nil
	} else if err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("build base %s is not a directory", buildBase)
	}
	sess, err := execute.Open(buildBase, lockWarn)
	if err != nil {
		var held *lock.HeldError
		if errors.As(err, &held) {
			return fmt.Errorf("refusing to clean %s: %w", buildBase, err)
		}
		return err
	}
	defer sess.Close()
	done, err := isolate.Cleanup(buildBase)
	for _, d := range done {
		fmt.Fprintln(w, d)
	}
	if err != nil {
		return err
	}
	if len(done) == 0 {
		fmt.Fprintf(w, "nothing to clean in %s\n", buildBase)
	}
	return nil
}
