package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-dsynth/dsynth/plan/planfile"
	"github.com/go-dsynth/dsynth/spec"
)

// planArgHead is how much of an argument file notPlanNorProfile reads.
const planArgHead = 64 << 10

// notPlanNorProfile tells, for a file given where a plan file or a
// profile file is expected (apply) and that plan.IsPlanFile did not take,
// whether it is clearly neither: empty, JSON that is no plan, or text
// without a profile block. Such a file is reported as no dsynth plan file
// (as show and graph do) rather than with the HCL diagnostics of a
// profile. nil means: load it as a profile, whose diagnostics then say
// what is wrong.
func notPlanNorProfile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // the profile loader reports it
	}
	defer f.Close()
	head := make([]byte, planArgHead)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil
	}
	whole := n < planArgHead
	head = bytes.TrimSpace(head[:n])
	switch {
	case len(head) == 0:
		return fmt.Errorf("%s: %w (the file is empty), nor a profile file", path, planfile.ErrNotPlan)
	case head[0] == '{' || head[0] == '[':
		// JSON (a profile never starts so): the plan reader says what it
		// lacks.
		if _, err := planfile.Read(path); err != nil {
			return fmt.Errorf("%w, nor a profile file", err)
		}
		return nil
	case whole && !bytes.Contains(head, []byte("profile")):
		return fmt.Errorf("%s: %w (not a JSON object with a format_version), nor a profile file (no profile block)", path, planfile.ErrNotPlan)
	}
	return nil
}

// readPlanOrProfile reads arg for the commands that take a plan file or a
// profile file: the plan file, or the loaded profile (the other one nil).
func readPlanOrProfile(arg string, pf *profileFlags) (*planfile.File, *spec.Loaded, error) {
	if planfile.IsPlanFile(arg) {
		f, err := planfile.Read(arg)
		return f, nil, err
	}
	if err := notPlanNorProfile(arg); err != nil {
		return nil, nil, err
	}
	l, err := pf.load(arg)
	return nil, l, err
}
