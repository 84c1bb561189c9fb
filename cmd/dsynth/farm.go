package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/go-dsynth/dsynth/execute"
	"github.com/go-dsynth/dsynth/execute/farm"
	"github.com/go-dsynth/dsynth/isolate"
	"github.com/go-dsynth/dsynth/plan"
)

// startFarm connects the controller of plan p's farm: the Temporal
// client, the package server and the executor. The caller holds the
// build-base lock.
func startFarm(ctx context.Context, p *plan.Plan) (execute.PortExecutor, func(), error) {
	prof := &p.Settings
	e := prof.Executor
	if e == nil {
		return nil, nil, fmt.Errorf("apply -executor temporal: the profile %q has no executor \"temporal\" block (see docs/farm.md)", prof.Name)
	}
	finished := map[string]int{}
	if _, err := os.Stat(prof.Records); err == nil {
		db, err := openRecords(prof.Records, true)
		if err != nil {
			return nil, nil, err
		}
		finished, err = farm.FinishedBuilds(db)
		db.Close()
		if err != nil {
			return nil, nil, err
		}
	}
	token, err := farm.Token(prof.BuildBase)
	if err != nil {
		return nil, nil, err
	}
	host, _ := os.Hostname()
	var tc *tls.Config
	if e.TLS != nil {
		if tc, err = farm.ClientTLS(e.TLS.CAFile, e.TLS.CertFile, e.TLS.KeyFile, e.TLS.ServerName); err != nil {
			return nil, nil, fmt.Errorf("executor: %w", err)
		}
	}
	c, err := farm.Dial(ctx, e.Address, e.Namespace, "dsynth-controller@"+host, tc)
	if err != nil {
		return nil, nil, err
	}
	srv := &farm.Server{PackagesDir: prof.PackagesDir, Token: token, StatusFile: filepath.Join(prof.BuildBase, farm.HostsFileName)}
	cert, key := "", ""
	if e.TLS != nil {
		cert, key = e.TLS.ListenCertFile, e.TLS.ListenKeyFile
	}
	stopSrv, err := farm.Listen(srv, e.Listen, cert, key)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	ex, err := farm.NewExecutor(farm.ExecutorOptions{Client: c, Plan: p, Finished: finished, Server: srv, URL: e.URL, Heartbeat: e.HeartbeatTimeout})
	if err != nil {
		stopSrv()
		c.Close()
		return nil, nil, err
	}
	fmt.Fprintf(stdout, "Farm: Temporal %s (namespace %s), builds on queue %s, packages served at %s\n", e.Address, e.Namespace, ex.ABI().Queue(), e.URL)
	return ex, func() { ex.Close(); stopSrv(); c.Close() }, nil
}

func init() {
	register(&command{
		name:     "worker",
		synopsis: "Run a build host of a farm: take the port builds of its ABI from Temporal and build them in its own slots",
		usage:    "dsynth worker -temporal HOST:PORT [-namespace NS] -ports DIR -build-base DIR [-slots N] [-name NAME] [-abi OPSYS-ARCH-OSVERSION] [-tls-ca F] [-tls-cert F -tls-key F] [-tls-server-name N]",
		flags: func(fs *flag.FlagSet) func([]string) error {
			addr := fs.String("temporal", "127.0.0.1:7233", "the Temporal server, `HOST:PORT`")
			ns := fs.String("namespace", "default", "the Temporal `namespace`")
			ports := fs.String("ports", "", "this host's copy of the ports tree (`DIR`, the plans' commit)")
			base := fs.String("build-base", "", "this host's build base (`DIR`: slots, package cache, logs)")
			slots := fs.Int("slots", max(runtime.NumCPU()/2, 1), "ports built at once (`N`)")
			name := fs.String("name", "", "the host's `NAME` in the records (default: its host name)")
			abiFlag := fs.String("abi", "", "the build ABI served, `OPSYS-ARCH-OSVERSION` (default: this host's)")
			ca := fs.String("tls-ca", "", "CA `FILE` checking the Temporal server and the package server")
			cert := fs.String("tls-cert", "", "client certificate `FILE` for Temporal")
			key := fs.String("tls-key", "", "its key `FILE`")
			sn := fs.String("tls-server-name", "", "the Temporal server's TLS `NAME`")
			distfiles := fs.String("distfiles", "", "distfiles `DIR` (default: BUILD_BASE/distfiles)")
			return func(args []string) error {
				if len(args) > 0 {
					return fmt.Errorf("worker takes no arguments, only flags (got %q)", strings.Join(args, " "))
				}
				if *ports == "" || *base == "" {
					return errors.New("worker: -ports and -build-base are required")
				}
				if *slots < 1 || *slots > 256 {
					return fmt.Errorf("-slots %d: between 1 and 256", *slots)
				}
				abi := farm.ABIOf(plan.DefaultStandIns())
				if *abiFlag != "" {
					var err error
					if abi, err = farm.ParseABI(*abiFlag); err != nil {
						return err
					}
				}
				pd, err := filepath.Abs(*ports)
				if err != nil {
					return err
				}
				bb, err := filepath.Abs(*base)
				if err != nil {
					return err
				}
				if _, err := os.Stat(filepath.Join(pd, "Mk")); err != nil {
					return fmt.Errorf("worker: -ports %s: not a ports tree (%v)", pd, err)
				}
				if err := os.MkdirAll(bb, 0o755); err != nil {
					return err
				}
				tc, err := farm.ClientTLS(*ca, *cert, *key, *sn)
				if err != nil {
					return err
				}
				return runWorker(farm.WorkerOptions{Name: *name, ABI: abi, Slots: *slots, PortsDir: pd, BuildBase: bb, DistfilesDir: *distfiles},
					*addr, *ns, tc, *ca)
			}
		},
	})
}

// runWorker serves as a build host until SIGINT or SIGTERM.
func runWorker(o farm.WorkerOptions, addr, ns string, tc *tls.Config, ca string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sess, err := execute.Open(o.BuildBase, lockWarn)
	if err != nil {
		return err
	}
	defer sess.Close()
	cleaned, err := isolate.Cleanup(o.BuildBase)
	for _, c := range cleaned {
		fmt.Fprintf(stderr, "dsynth worker: cleaned up a leftover slot: %s\n", c)
	}
	if err != nil {
		return err
	}
	if o.Name == "" {
		o.Name, _ = os.Hostname()
	}
	c, err := farm.Dial(ctx, addr, ns, "dsynth-worker@"+o.Name, tc)
	if err != nil {
		return err
	}
	defer c.Close()
	o.Client = c
	o.HTTP = &http.Client{}
	if ca != "" {
		o.HTTP.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tc.RootCAs, MinVersion: tls.VersionTLS12}}
	}
	o.Logf = func(format string, a ...any) { fmt.Fprintf(stdout, "dsynth worker: "+format+"\n", a...) }
	return farm.RunWorker(ctx, o)
}
