package integration_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/accounts"
	noderegistry "github.com/httvps/httvps/services/node-registry"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
)

const secretKey = "integration-secret-key-0123456789abcdef-0123456789"

// controlPlane is the real accounts and node-registry services on one database.
type controlPlane struct {
	nc *nats.Conn
}

func startControlPlane(t *testing.T, ns *testkit.SecureNATS) *controlPlane {
	t.Helper()
	bdb, err := db.Open(t.Context(), testkit.Postgres(t), db.DefaultPool())
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { _ = bdb.Close() })
	if err := migrations.Up(t.Context(), bdb); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	runAccounts(t, ns, bdb)
	runNodeRegistry(t, ns, bdb)
	cp := &controlPlane{nc: ns.Conn(t, natsauth.RoleService, natsauth.Operator)}
	testkit.Eventually(t, 10*time.Second, "node-registry answers", func() bool {
		_, err := rpc.Call[schemas.AdminReply](context.Background(), cp.nc, schemas.AdminSubject(schemas.ResourceRegions, schemas.VerbList), schemas.AdminRequest{}, time.Second)
		return !errors.Is(err, rpc.ErrUnavailable)
	})
	return cp
}

func runAccounts(t *testing.T, ns *testkit.SecureNATS, bdb *bun.DB) {
	cfg := accounts.DefaultConfig()
	cfg.SecretKey = []byte(secretKey)
	cfg.ExpiryInterval = time.Hour
	cfg.LastSeenInterval = time.Hour
	svc, err := accounts.New(cfg, accounts.Deps{NC: ns.Conn(t, natsauth.RoleService, natsauth.Accounts), DB: bdb, Log: testkit.Logger(t), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatalf("accounts: %v", err)
	}
	run(t, "accounts", svc.Run)
	select {
	case <-svc.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("accounts not ready")
	}
}

func runNodeRegistry(t *testing.T, ns *testkit.SecureNATS, bdb *bun.DB) {
	cfg := noderegistry.DefaultConfig()
	cfg.SweepInterval = time.Hour
	cfg.FetchWait = 50 * time.Millisecond
	svc, err := noderegistry.New(cfg, noderegistry.Deps{NC: ns.Conn(t, natsauth.RoleService, natsauth.NodeRegistry), DB: bdb, Log: testkit.Logger(t), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatalf("node-registry: %v", err)
	}
	run(t, "node-registry", svc.Run)
}

func run(t *testing.T, name string, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	})
}

func (cp *controlPlane) admin(t *testing.T, resource, verb string, req schemas.AdminRequest, out any) {
	t.Helper()
	rep, err := rpc.Call[schemas.AdminReply](context.Background(), cp.nc, schemas.AdminSubject(resource, verb), req, 5*time.Second)
	if err != nil {
		t.Fatalf("%s %s: %v", resource, verb, err)
	}
	if !rep.OK {
		t.Fatalf("%s %s: %+v", resource, verb, rep.Error)
	}
	if out != nil {
		if err := json.Unmarshal(rep.Data, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", resource, verb, rep.Data, err)
		}
	}
}

func jsonBody(t *testing.T, v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (cp *controlPlane) addRegion(t *testing.T, code string) {
	cp.admin(t, schemas.ResourceRegions, schemas.VerbCreate, schemas.AdminRequest{Body: jsonBody(t, map[string]any{"code": code, "name": code})}, nil)
}

func (cp *controlPlane) addNode(t *testing.T, n schemas.OutlineAssignment) int64 {
	var out struct {
		ID int64 `json:"id"`
	}
	cp.admin(t, schemas.ResourceOutlineNodes, schemas.VerbCreate, schemas.AdminRequest{Body: jsonBody(t, map[string]any{
		"region": n.Region, "name": "outline", "internal_ip": n.InternalIP, "ss_port": n.SSPort,
		"ss_method": n.SSMethod, "ss_password": n.SSPassword, "max_sessions": 100,
	})}, &out)
	return out.ID
}

type device struct {
	ID          int64  `json:"id"`
	UserID      int64  `json:"user_id"`
	UUID        string `json:"device_uuid"`
	AccessToken string `json:"access_token"`
}

// addSubscriber creates a user with a 30-day subscription and one device.
func (cp *controlPlane) addSubscriber(t *testing.T, name string) device {
	var user, plan struct {
		ID int64 `json:"id"`
	}
	cp.admin(t, schemas.ResourceUsers, schemas.VerbCreate, schemas.AdminRequest{Body: jsonBody(t, map[string]any{"identifier": name + "@example.com", "identifier_kind": "email"})}, &user)
	cp.admin(t, schemas.ResourcePlans, schemas.VerbCreate, schemas.AdminRequest{Body: jsonBody(t, map[string]any{"name": "plan-" + name, "max_devices": 3})}, &plan)
	cp.admin(t, schemas.ResourceSubscriptions, schemas.VerbCreate, schemas.AdminRequest{Body: jsonBody(t, map[string]any{"user_id": user.ID, "plan_id": plan.ID, "days": 30})}, nil)
	var d device
	cp.admin(t, schemas.ResourceDevices, schemas.VerbCreate, schemas.AdminRequest{Body: jsonBody(t, map[string]any{"user_id": user.ID, "platform": "linux"})}, &d)
	return d
}
