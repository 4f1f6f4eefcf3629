package httvps

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/httvps/httvps/shared/db"
)

func printBanner(out io.Writer, sys *System) {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("")
	line("HTTVPS is running. Ctrl-C stops it; data stays in %s.", sys.Config.DataDir)
	line("")
	line("  REST edge     http://%s/api/v1   (OpenAPI: /api/v1/openapi.json)", sys.EdgeAddr())
	line("  Gateway       wss://%s/ws   (self-signed certificate in %s)", sys.GatewayAddr(), sys.Services.Gateway.TLSDir)
	line("  NATS          %s", sys.NATSURL())
	line("  PostgreSQL    %s", db.RedactDSN(sys.DSN()))
	if dir := sys.sys.PostgresDir(); dir != "" && dir != absPath(sys.Config.postgresDir()) {
		line("                data in %s (the postgres OS user cannot reach %s)", dir, sys.Config.DataDir)
	}
	if sys.metrics != nil {
		line("  Metrics       http://%s/metrics", sys.metrics.Addr)
	}
	line("")
	line("Admin API (see docs/02-control-plane-api.md):")
	line("  export EDGE=http://%s HTTVPS_ADMIN_TOKEN=%s HTTVPS_NODE_TOKEN=%s", sys.EdgeAddr(), sys.Secrets["HTTVPS_ADMIN_TOKEN"], sys.Secrets["HTTVPS_NODE_TOKEN"])
	line("  curl -s -H \"Authorization: Bearer $HTTVPS_ADMIN_TOKEN\" $EDGE/api/v1/admin/users")
	line("")
	line("Watch usage live:   go tool nats -s %s sub 'httvps.usage.>'", sys.NATSURL())
	line("Tables:             psql '%s'", sys.DSN())
	if d := sys.demo; d != nil {
		line("")
		line("Demo: region %s, user %s (id %d), device %s, Outline node %s", d.seed.Region, d.cfg.User, d.seed.UserID, d.seed.DeviceID, d.outline.Addr())
		line("1. In a second terminal, start the client:")
		line("   go run ./services/client/cmd/httvps-client -gateway wss://%s/ws -insecure -device-id %s -token %s -region %s -socks %s",
			sys.GatewayAddr(), d.seed.DeviceID, d.seed.Token, d.seed.Region, d.cfg.SOCKSAddr)
		line("2. In a third terminal, fetch the demo page through the tunnel:")
		line("   curl --socks5-hostname %s %s", d.cfg.SOCKSAddr, d.page.URL())
		line("3. See the user's usage grow (the gateway reports every 10 s):")
		line("   curl -s -H \"Authorization: Bearer $HTTVPS_ADMIN_TOKEN\" $EDGE/api/v1/admin/users/%d/usage", d.seed.UserID)
		line("4. UDP: %s echoes datagrams; README.md sends one through SOCKS5 UDP ASSOCIATE", d.page.ln.Addr())
	}
	line("")
	fmt.Fprint(out, b.String())
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
