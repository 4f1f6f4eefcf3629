package system_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/httvps/system"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/httvps/httvps/shared/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }

func TestCopiesGatewaysAndGivenNATS(t *testing.T) {
	tests := []struct {
		name     string
		external bool
		copies   system.Copies
		gateways int
	}{
		{name: "embedded NATS, one of each", copies: system.Copies{Accounts: 1, NodeRegistry: 1, Aggregator: 1, Edge: 1}, gateways: 1},
		{name: "given NATS, two of each, two gateways", external: true, copies: system.Copies{Accounts: 2, NodeRegistry: 2, Aggregator: 2, Edge: 2}, gateways: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := system.Loopback(dir)
			cfg.DatabaseURL = testkit.Postgres(t)
			cfg.Copies = tt.copies
			if tt.external {
				url := testkit.NATS(t).URL
				cfg.NATSURLs = []string{url, strings.Replace(url, "127.0.0.1", "localhost", 1)}
				cfg.NATSFor = func(kind string, copy int) []string {
					if kind == "edge" && copy == 1 {
						return []string{url}
					}
					return nil
				}
			}
			cfg.Gateways = nil
			for i := range tt.gateways {
				cfg.Gateways = append(cfg.Gateways, system.LoopbackGateway(dir, "gw-"+string(rune('a'+i)), system.LoopbackRegion))
			}
			node, on, err := system.OutlineNode("127.0.0.1:0", system.LoopbackRegion)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = on.Close() })
			cfg.Outline = []system.Node{node, node}
			sys, err := system.Start(context.Background(), cfg, testkit.Logger(t))
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			t.Cleanup(func() { _ = sys.Stop() })

			got := []int{len(sys.Accounts()), len(sys.NodeRegistries()), len(sys.Aggregators()), len(sys.Edges()), len(sys.Gateways())}
			want := []int{tt.copies.Accounts, tt.copies.NodeRegistry, tt.copies.Aggregator, tt.copies.Edge, tt.gateways}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("units %v, want %v", got, want)
				}
			}
			addrs := map[string]bool{}
			for _, g := range sys.Gateways() {
				addrs[g.Service.Addr()] = true
			}
			if len(addrs) != tt.gateways {
				t.Fatalf("gateways listen on %v", addrs)
			}
			if tt.external {
				gws, edges := sys.Gateways(), sys.Edges()
				got := []string{gws[0].NC.ConnectedUrl(), gws[1].NC.ConnectedUrl(), edges[1].NC.ConnectedUrl()}
				if !strings.Contains(got[0], "127.0.0.1") || !strings.Contains(got[1], "localhost") || !strings.Contains(got[2], "127.0.0.1") {
					t.Fatalf("gateway 1, gateway 2 and edge 2 connected to %v, want the first URL, the second, and NATSFor's", got)
				}
			}
			var nodes []struct{ ID int64 }
			if err := sys.Admin().Call(t.Context(), schemas.ResourceOutlineNodes, schemas.VerbList, schemas.AdminRequest{}, &nodes); err != nil || len(nodes) != 1 {
				t.Fatalf("outline nodes %v (%v), want the node registered once", nodes, err)
			}

			first := sys.Accounts()[0]
			if err := first.Stop(); err != nil {
				t.Fatalf("stop %s: %v", first.Name, err)
			}
			_, err = rpc.Call[schemas.ValidateDeviceReply](t.Context(), sys.NATS(), schemas.SubjectValidateDevice, schemas.ValidateDeviceRequest{DeviceID: "d", AccessToken: "t", Region: system.LoopbackRegion}, 2*time.Second)
			if tt.copies.Accounts > 1 && err != nil {
				t.Fatalf("validate-device with one accounts copy stopped: %v", err)
			}
			if tt.copies.Accounts == 1 && err == nil {
				t.Fatal("validate-device answered with no accounts copy running")
			}
			if err := sys.Stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			select {
			case err := <-sys.Failed():
				t.Fatalf("a unit failed: %v", err)
			default:
			}
		})
	}
}
