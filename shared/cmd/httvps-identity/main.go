// Command httvps-identity creates and revokes the NATS identities of HTTVPS (one nkey user per
// control-plane service and per gateway), renders the matching accounts block of the NATS server
// configuration, and makes development TLS certificates.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/httvps/httvps/shared/devtls"
	"github.com/httvps/httvps/shared/natsauth"
)

const usage = `usage: httvps-identity <command> [-dir DIR] [-config FILE] [args]
  init                 an identity for every control-plane service and the provisioner, then render
  add-gateway ID       a new gateway identity, then render
  revoke-gateway ID    remove a gateway identity, then render (others are untouched)
  add-agent NODE_ID    a new outline agent identity (publishes only that node's heartbeat), then render
  revoke-agent NODE_ID remove an outline agent identity, then render
  render               write the accounts block (FILE, default DIR/accounts.conf) from DIR
  dev-tls [-hosts H,H] a development CA and certificates nats, edge and gateway in DIR
`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "httvps-identity:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(strings.TrimSpace(usage))
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dir := fs.String("dir", "deploy/compose/secrets/identities", "identity store: seeds and public keys")
	conf := fs.String("config", "", "where render writes the accounts block (default DIR/accounts.conf)")
	hosts := fs.String("hosts", "localhost,127.0.0.1,nats-1,nats-2,nats-3,edge,gateway", "dev-tls: names and addresses the certificates are valid for")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	store := natsauth.Store{Dir: *dir}
	switch cmd {
	case "init":
		for _, name := range natsauth.Services() {
			made, err := store.Create(natsauth.RoleService, name)
			if err != nil {
				return err
			}
			if made {
				fmt.Fprintf(out, "created service %s: seed %s\n", name, store.SeedFile(natsauth.RoleService, name))
			}
		}
		return render(store, *conf, out)
	case "add-gateway", "add-agent":
		return add(store, roleOf(cmd), fs, *conf, out)
	case "revoke-gateway", "revoke-agent":
		return revoke(store, roleOf(cmd), fs, *conf, out)
	case "render":
		return render(store, *conf, out)
	case "dev-tls":
		return devTLS(*dir, strings.Split(*hosts, ","), out)
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

func roleOf(cmd string) string {
	if strings.HasSuffix(cmd, "-agent") {
		return natsauth.RoleAgent
	}
	return natsauth.RoleGateway
}

func add(store natsauth.Store, role string, fs *flag.FlagSet, conf string, out io.Writer) error {
	id, err := oneArg(fs, role)
	if err != nil {
		return err
	}
	made, err := store.Create(role, id)
	if err != nil {
		return err
	}
	if !made {
		return fmt.Errorf("%s %s already has an identity in %s; revoke it first to replace it", role, id, store.Dir)
	}
	fmt.Fprintf(out, "created %s %s: give %s to that %s only, as HTTVPS_NATS_NKEY_FILE\n", role, id, store.SeedFile(role, id), role)
	return render(store, conf, out)
}

func revoke(store natsauth.Store, role string, fs *flag.FlagSet, conf string, out io.Writer) error {
	id, err := oneArg(fs, role)
	if err != nil {
		return err
	}
	if err := store.Remove(role, id); err != nil {
		return err
	}
	fmt.Fprintf(out, "revoked %s %s\n", role, id)
	return render(store, conf, out)
}

func oneArg(fs *flag.FlagSet, role string) (string, error) {
	what := "gateway id"
	if role == natsauth.RoleAgent {
		what = "outline node id"
	}
	if fs.NArg() != 1 {
		return "", fmt.Errorf("%s takes one %s", fs.Name(), what)
	}
	return fs.Arg(0), nil
}

func render(store natsauth.Store, conf string, out io.Writer) error {
	path, err := store.WriteConfig(conf)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s; reload every NATS server (nats-server --signal reload) to apply it\n", path)
	return nil
}

func devTLS(dir string, hosts []string, out io.Writer) error {
	ca, err := devtls.NewCA(dir)
	if err != nil {
		return err
	}
	for _, name := range []string{"nats", "edge", "gateway"} {
		f, err := ca.Issue(dir, name, hosts...)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote %s and %s\n", f.Cert, f.Key)
	}
	fmt.Fprintf(out, "wrote %s (development only: its key is not kept)\n", ca.File)
	return nil
}
