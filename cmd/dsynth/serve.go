package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/time/rate"

	"github.com/go-dsynth/dsynth/api"
	"github.com/go-dsynth/dsynth/spec"
)

func init() {
	register(&command{
		name:     "serve",
		synopsis: "Serve the REST/WebSocket API, Prometheus metrics and the web dashboard",
		usage:    "dsynth serve [-listen ADDR] [-profile NAME]... [-var K=V]... [-var-file F]... [-tls-cert F -tls-key F] [-metrics-public] [-rate N] [-burst N] [-workers N] PROFILE.hcl...",
		flags: func(fs *flag.FlagSet) func([]string) error {
			listen := fs.String("listen", "127.0.0.1:8080", "listen on `ADDR` (host:port)")
			var names, vars, varFiles multiFlag
			fs.Var(&names, "profile", "serve profile `NAME` (repeatable; default: every profile of the files)")
			fs.Var(&vars, "var", "set a variable, `NAME=VALUE` (repeatable)")
			fs.Var(&varFiles, "var-file", "read variables from an HCL `FILE` (repeatable)")
			cert := fs.String("tls-cert", "", "serve HTTPS with this certificate `FILE` (PEM)")
			key := fs.String("tls-key", "", "the TLS private key `FILE` (PEM)")
			metricsPublic := fs.Bool("metrics-public", false, "serve /metrics without an API key")
			rps := fs.Float64("rate", 20, "requests per second allowed per API key")
			burst := fs.Int("burst", 40, "request burst allowed per API key")
			workers := fs.Int("workers", 0, "override the profiles' worker count")
			return func(args []string) error {
				if len(args) == 0 {
					return errors.New("expected one or more profile files (flags go before them)")
				}
				if (*cert == "") != (*key == "") {
					return errors.New("-tls-cert and -tls-key go together")
				}
				loaded, err := loadProfiles(args, names, vars, varFiles)
				if err != nil {
					return err
				}
				log := slog.New(slog.NewTextHandler(stderr, nil))
				srv, err := api.New(api.Config{Profiles: loaded, Version: Version, MetricsPublic: *metricsPublic,
					Rate: rate.Limit(*rps), Burst: *burst, Workers: *workers, Log: log})
				if err != nil {
					return err
				}
				ln, err := net.Listen("tcp", *listen)
				if err != nil {
					srv.Shutdown(context.Background())
					return err
				}
				scheme := "http"
				if *cert != "" {
					scheme = "https"
				}
				fmt.Fprintf(stderr, "dsynth serve: %s://%s/ (API under %s), profiles:", scheme, ln.Addr(), api.Prefix)
				for _, l := range loaded {
					fmt.Fprintf(stderr, " %s", l.Profile.Name)
				}
				fmt.Fprintln(stderr)
				ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				err = srv.Serve(ctx, ln, *cert, *key)
				fmt.Fprintln(stderr, "dsynth serve: stopped")
				return err
			}
		},
	})
}

// loadProfiles loads the named profiles (or every profile) of files.
func loadProfiles(files, names, vars, varFiles []string) ([]*spec.Loaded, error) {
	var out []*spec.Loaded
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	found := map[string]bool{}
	for _, f := range files {
		// Load once to learn the file's profile names.
		first, diags := spec.Load(f, spec.Options{Vars: vars, VarFiles: varFiles, Profile: firstName(names)})
		if len(first.Names) == 0 && diags.HasErrors() {
			spec.WriteDiagnostics(stderr, first, diags)
			return nil, errReported
		}
		for _, n := range first.Names {
			if len(want) > 0 && !want[n] {
				continue
			}
			l, diags := spec.Load(f, spec.Options{Profile: n, Vars: vars, VarFiles: varFiles})
			if len(diags) > 0 {
				spec.WriteDiagnostics(stderr, l, diags)
			}
			if diags.HasErrors() {
				return nil, errReported
			}
			found[n] = true
			out = append(out, l)
		}
	}
	for n := range want {
		if !found[n] {
			return nil, fmt.Errorf("no profile %q in %v", n, files)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no profile in %v", files)
	}
	return out, nil
}

func firstName(names []string) string {
	if len(names) > 0 {
		return names[0]
	}
	return ""
}
