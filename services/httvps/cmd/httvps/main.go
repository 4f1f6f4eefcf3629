package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/httvps/httvps/services/httvps"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "httvps:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return httvps.Main(ctx, os.LookupEnv, os.Stdout, os.Stderr)
}
