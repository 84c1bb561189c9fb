package main

import (
	"flag"
	"fmt"

	"github.com/go-dsynth/dsynth/plan"
	"github.com/go-dsynth/dsynth/plan/planfile"
)

func init() {
	register(&command{
		name:     "graph",
		synopsis: "Print a plan's dependency graph (Graphviz DOT or JSON)",
		usage:    "dsynth graph [-format dot|json] PLANFILE",
		flags: func(fs *flag.FlagSet) func([]string) error {
			format := fs.String("format", "dot", "output `FORMAT`: dot or json")
			return func(args []string) error {
				arg, err := oneArg(args, "the plan file")
				if err != nil {
					return err
				}
				if *format != "dot" && *format != "json" {
					return fmt.Errorf("-format must be dot or json, not %q", *format)
				}
				f, err := planfile.Read(arg)
				if err != nil {
					return err
				}
				p := f.Plan()
				if *format == "json" {
					return plan.RenderGraphJSON(stdout, p)
				}
				return plan.RenderDOT(stdout, p)
			}
		},
	})
}
