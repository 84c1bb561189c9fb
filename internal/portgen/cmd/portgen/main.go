package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/go-dsynth/dsynth/internal/portgen"
)

func main() {
	var opt portgen.Options
	out := flag.String("out", "", "directory to write the tree into (required)")
	flag.IntVar(&opt.N, "n", 100, "number of ports")
	flag.Uint64Var(&opt.Seed, "seed", 1, "random seed")
	flag.IntVar(&opt.MaxDeps, "max-deps", 0, "maximum direct dependencies of a port (0: default 12)")
	flag.Float64Var(&opt.Flavored, "flavored", 0, "fraction of flavored ports (0: default 0.03)")
	flag.DurationVar(&opt.SleepMin, "sleep-min", 0, "minimum build-phase sleep per port")
	flag.DurationVar(&opt.SleepMax, "sleep-max", 0, "maximum build-phase sleep per port")
	flag.IntVar(&opt.Payload, "payload", 0, "bytes of data each package holds (0: default 64)")
	flag.Float64Var(&opt.Ignored, "ignored", 0, "fraction of IGNOREd ports")
	flag.Float64Var(&opt.Failing, "failing", 0, "fraction of ports failing in the build phase")
	stats := flag.Bool("stats", false, "print the tree's figures (nodes, edges, work, critical path)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: portgen -n N -seed S -out DIR [flags]")
		flag.PrintDefaults()
		os.Exit(2)
	}
	t, err := portgen.Build(opt)
	if err == nil {
		err = t.Write(*out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "portgen:", err)
		os.Exit(1)
	}
	if *stats {
		s := t.Stats()
		fmt.Printf("nodes %d, edges %d, max dependents %d, total work %v, critical path %v\n",
			s.Nodes, s.Edges, s.MaxDependents, s.TotalWork, s.CriticalPath)
	}
}
