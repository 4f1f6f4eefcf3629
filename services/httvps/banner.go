package httvps

import (
	"fmt"
	"io"
	"strings"

	"github.com/httvps/httvps/shared/db"
)

func printBanner(out io.Writer, cfg Config, in *infra, services serviceConfigs, secrets map[string]string) {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("")
	line("HTTVPS is running (Ctrl-C stops it; data stays in %s)", cfg.DataDir)
	line("")
	line("  NATS          %s   (watch usage: make nats ARGS=\"-s %s sub 'httvps.usage.>'\")", in.natsURL, in.natsURL)
	line("  PostgreSQL    %s", db.RedactDSN(in.dsn))
	if in.cluster != nil {
		line("                psql '%s'", in.dsn)
	}
	line("")
	fmt.Fprint(out, b.String())
}
