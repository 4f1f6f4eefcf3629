// Command httvps-migrate applies, rolls back or lists the HTTVPS database
// migrations on the database named by HTTVPS_DATABASE_URL.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/uptrace/bun"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/shared/db"
)

const (
	envDatabaseURL = "HTTVPS_DATABASE_URL"
	usage          = "usage: httvps-migrate up|down|status\n" +
		"  up      apply pending migrations\n" +
		"  down    roll back every applied migration\n" +
		"  status  list migrations and whether they are applied\n" +
		"The database is taken from " + envDatabaseURL + " (postgres://user:password@host:5432/db?sslmode=disable).\n"
)

var errUsage = errors.New("expected one command: up, down or status")

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "httvps-migrate:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage)
		}
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runCommand(ctx, os.Args[1:], os.Getenv, os.Stdout)
}

func runCommand(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) == 1 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		_, err := fmt.Fprint(out, usage)
		return err
	}
	if len(args) != 1 {
		return errUsage
	}
	var apply func(context.Context, *bun.DB) error
	switch args[0] {
	case "up":
		apply = migrations.Up
	case "down":
		apply = migrations.Down
	case "status":
	default:
		return fmt.Errorf("unknown command %q: %w", args[0], errUsage)
	}
	dsn := getenv(envDatabaseURL)
	if dsn == "" {
		return fmt.Errorf("%s is not set: want postgres://user:password@host:5432/db?sslmode=disable", envDatabaseURL)
	}
	bdb, err := db.Open(ctx, dsn, db.DefaultPool())
	if err != nil {
		return err
	}
	defer bdb.Close()
	if apply != nil {
		if err := apply(ctx, bdb); err != nil {
			return err
		}
	}
	return printStatus(ctx, bdb, out)
}

func printStatus(ctx context.Context, bdb *bun.DB, out io.Writer) error {
	statuses, err := migrations.Status(ctx, bdb)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "STATE\tMIGRATION\tGROUP\tAPPLIED AT")
	for _, s := range statuses {
		if !s.Applied {
			fmt.Fprintf(w, "pending\t%s\t-\t-\n", s.Name)
			continue
		}
		fmt.Fprintf(w, "applied\t%s\t%d\t%s\n", s.Name, s.GroupID, s.MigratedAt.UTC().Format(time.RFC3339))
	}
	return w.Flush()
}
