package main

import (
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/go-dsynth/dsynth/record"
)

func init() {
	register(&command{
		name:     "apikey",
		synopsis: "Create, list and revoke API keys of dsynth serve",
		usage: "dsynth apikey create -name NAME [-role read|build|admin] [-profile NAME] PROFILE.hcl\n" +
			"       dsynth apikey list [-profile NAME] PROFILE.hcl\n" +
			"       dsynth apikey revoke -key ID|NAME [-profile NAME] PROFILE.hcl",
		flags: func(fs *flag.FlagSet) func([]string) error {
			var pf profileFlags
			pf.register(fs)
			name := fs.String("name", "", "create: the key's `NAME` (who or what uses it)")
			role := fs.String("role", record.RoleRead, "create: the key's `ROLE`: read, build (start/cancel builds) or admin")
			which := fs.String("key", "", "revoke: the key `ID` or name")
			return func(args []string) error {
				// Flags may follow the subcommand: parse them there too.
				if len(args) > 0 {
					if err := fs.Parse(args[1:]); err != nil {
						return errReported
					}
					args = append(args[:1], fs.Args()...)
				}
				if len(args) != 2 {
					return errors.New("expected a subcommand (create, list, revoke) and the profile file")
				}
				verb := args[0]
				l, err := pf.load(args[1])
				if err != nil {
					return err
				}
				db, err := record.Open(l.Profile.Records, record.Options{})
				if err != nil {
					return err
				}
				defer db.Close()
				switch verb {
				case "create":
					key, k, err := db.CreateAPIKey(*name, *role)
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "%s\n", key)
					fmt.Fprintf(stderr, "Created API key %s (%s, role %s) in %s.\nIt is shown only now: store it; send it as the X-API-Key header.\n",
						k.ID, k.Name, k.Role, db.Path())
					return nil
				case "list":
					keys, err := db.APIKeys()
					if err != nil {
						return err
					}
					tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tREVOKED")
					for _, k := range keys {
						rev := "-"
						if !k.Revoked.IsZero() {
							rev = k.Revoked.Format(time.RFC3339)
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Role, k.Created.Format(time.RFC3339), rev)
					}
					return tw.Flush()
				case "revoke":
					if *which == "" {
						return errors.New("revoke needs -key ID|NAME")
					}
					k, err := db.RevokeAPIKey(*which)
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "Revoked API key %s (%s).\n", k.ID, k.Name)
					return nil
				}
				return fmt.Errorf("unknown subcommand %q (create, list, revoke)", verb)
			}
		},
	})
}
