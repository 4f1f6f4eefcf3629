package httvps_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/httvps"
	outlineagent "github.com/httvps/httvps/services/outline-agent"
	"github.com/httvps/httvps/shared/admin"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/uptrace/bun/driver/pgdriver"
)

const (
	poolRegion   = "pool-1"
	poolMethod   = "chacha20-ietf-poly1305"
	poolPassword = "pool-test-secret"
	poolSessions = 20
	poolDownload = 8 << 20
	// The bound: a dead node is out of assignment within 10 s of the first failed dial.
	passiveBound = 10 * time.Second
)

// pool is a region of three ss-server nodes registered in the running system.
type pool struct {
	sys   *httvps.System
	db    *sql.DB
	nc    *nats.Conn
	token string
	nodes []*testkit.SSServer
	ids   []int64
}

func newPool(t *testing.T, sys *httvps.System) *pool {
	t.Helper()
	nc, err := nats.Connect(sys.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(sys.DSN())))
	t.Cleanup(func() { db.Close() })
	_, token := sys.DemoUser()
	p := &pool{sys: sys, db: db, nc: nc, token: token}
	p.admin(t, schemas.ResourceRegions, schemas.VerbCreate, map[string]any{"code": poolRegion, "name": "Pool test region"}, nil)
	for range 3 {
		node := testkit.StartSSServer(t, poolMethod, poolPassword)
		var created struct {
			ID int64 `json:"id"`
		}
		p.admin(t, schemas.ResourceOutlineNodes, schemas.VerbCreate, map[string]any{
			"region": poolRegion, "name": "pool-node", "internal_ip": "127.0.0.1", "ss_port": node.Port,
			"ss_method": poolMethod, "ss_password": poolPassword, "max_sessions": 1000,
		}, &created)
		p.nodes, p.ids = append(p.nodes, node), append(p.ids, created.ID)
	}
	return p
}

func (p *pool) admin(t *testing.T, resource, verb string, body any, out any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	err := admin.Client{NC: p.nc, Timeout: 5 * time.Second}.Call(context.Background(), resource, verb, schemas.AdminRequest{Body: raw}, out)
	if err != nil {
		t.Fatalf("%s %s: %v", resource, verb, err)
	}
}

// session runs one client session in the pool region and downloads size bytes on each of
// downloads streams, calling between after the first.
func (p *pool) session(t *testing.T, size, downloads int, between func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	socks, done := startClient(t, ctx, p.sys, p.token, poolRegion, true)
	for i := range downloads {
		if i == 1 && between != nil {
			between()
		}
		downloadThroughSOCKS(t, socks, p.sys.DemoPageURL(), size)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("client: %v", err)
	}
}

// nodeState is an outline node as the admin API shows it.
type nodeState struct {
	Health     string     `json:"health_status"`
	Reason     string     `json:"health_reason"`
	DialFailed *time.Time `json:"dial_failed_at"`
	Heartbeat  *time.Time `json:"last_heartbeat_at"`
}

func (p *pool) state(t *testing.T, id int64) nodeState {
	t.Helper()
	var s nodeState
	err := admin.Client{NC: p.nc, Timeout: 5 * time.Second}.Call(context.Background(), schemas.ResourceOutlineNodes, schemas.VerbGet, schemas.AdminRequest{ID: id}, &s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// watchMark polls, until deadline, for the passive mark on a node; the channel gets whether it came.
func (p *pool) watchMark(t *testing.T, id int64, deadline time.Time) <-chan bool {
	marked := make(chan bool, 1)
	go func() {
		for time.Now().Before(deadline) {
			var failed sql.NullTime
			if p.db.QueryRow(`SELECT dial_failed_at FROM outline_nodes WHERE id = $1`, id).Scan(&failed) == nil && failed.Valid {
				marked <- true
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		marked <- false
	}()
	return marked
}

func (p *pool) sessionsOn(t *testing.T, id int64, where string) int {
	t.Helper()
	var n int
	if err := p.db.QueryRow(`SELECT count(*) FROM outline_node_sessions s JOIN outline_nodes n ON n.id = s.outline_node_id
		WHERE n.id = $1 AND `+where, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOutlinePoolRoutesAroundDeadNodes(t *testing.T) {
	env := baseEnv(t, reachableDir(t))
	env["HTTVPS_DATABASE_URL"] = testkit.Postgres(t)
	env["HTTVPS_HEARTBEAT_INTERVAL"] = "2s"
	env["HTTVPS_REGISTRY_SWEEP_INTERVAL"] = "250ms"
	sys := startSystem(t, env)
	p := newPool(t, sys)
	dead, deadID := p.nodes[0], p.ids[0]

	t.Run("one of three nodes killed: 20 new sessions each download 8 MiB", func(t *testing.T) {
		dead.Kill()
		marked := p.watchMark(t, deadID, time.Now().Add(passiveBound))
		for range poolSessions {
			p.session(t, poolDownload, 1, nil)
		}
		if !<-marked {
			t.Fatalf("node %d not marked within %s of being killed", deadID, passiveBound)
		}
		if s := p.state(t, deadID); s.Health != schemas.HealthUnhealthy || !strings.Contains(s.Reason, "connection refused") {
			t.Fatalf("dead node = %+v, want unhealthy with the refused connects as reason", s)
		}
		testkit.Eventually(t, 10*time.Second, "the started events of the sessions stored", func() bool {
			var n int
			return p.db.QueryRow(`SELECT count(*) FROM outline_node_sessions WHERE outline_node_id IN ($1, $2, $3)`, p.ids[0], p.ids[1], p.ids[2]).Scan(&n) == nil && n >= poolSessions
		})
		if n := p.sessionsOn(t, deadID, "true"); n == 0 {
			t.Fatal("no session was assigned the dead node: the transparent retry was not exercised")
		}
		if n := p.sessionsOn(t, deadID, "s.started_at > n.dial_failed_at"); n != 0 {
			t.Fatalf("%d sessions assigned the dead node after it was marked", n)
		}
	})
	t.Run("restarting it brings it back", func(t *testing.T) {
		dead.Start()
		testkit.Eventually(t, 20*time.Second, "the node back in assignment", func() bool {
			s := p.state(t, deadID)
			return s.DialFailed == nil && s.Health == schemas.HealthHealthy
		})
		p.session(t, 1<<20, 1, nil)
	})
	t.Run("a session whose node dies mid-session: new streams succeed on another node at once", func(t *testing.T) {
		var victim *testkit.SSServer
		p.session(t, 1<<20, 3, func() {
			var nodeID int64
			testkit.Eventually(t, 10*time.Second, "the session's node", func() bool {
				return p.db.QueryRow(`SELECT s.outline_node_id FROM outline_node_sessions s JOIN sessions x ON x.id = s.session_id
					WHERE x.device_uuid = 'demo-device' AND x.ended_at IS NULL`).Scan(&nodeID) == nil
			})
			for i, id := range p.ids {
				if id == nodeID {
					victim = p.nodes[i]
				}
			}
			victim.Kill()
		})
		victim.Start()
		testkit.Eventually(t, 20*time.Second, "every pool node back in assignment", func() bool {
			var n int
			return p.db.QueryRow(`SELECT count(*) FROM outline_nodes WHERE dial_failed_at IS NOT NULL`).Scan(&n) == nil && n == 0
		})
	})
	t.Run("the agent's heartbeats: dead node unhealthy, healthy again, offline once the agent stops", func(t *testing.T) {
		node, id := p.nodes[1], p.ids[1]
		cfg := sys.Services.NodeRegistry
		// the agent reports within the miss window; the waits allow three, so a loaded machine passes
		window := 3 * cfg.OfflineAfter()
		stop := runAgent(t, sys, id, node.Addr(), poolPassword)
		testkit.Eventually(t, window, "the agent's first heartbeat", func() bool {
			s := p.state(t, id)
			return s.Heartbeat != nil && s.Health == schemas.HealthHealthy
		})
		node.Kill()
		testkit.Eventually(t, window, "the killed node unhealthy by its agent", func() bool {
			s := p.state(t, id)
			return s.Health == schemas.HealthUnhealthy && strings.Contains(s.Reason, "cannot connect to the node")
		})
		node.Start()
		testkit.Eventually(t, window, "the restarted node healthy again", func() bool {
			s := p.state(t, id)
			return s.Health == schemas.HealthHealthy && s.DialFailed == nil
		})
		stop()
		testkit.Eventually(t, window+2*cfg.SweepInterval+time.Second, "offline after the missed heartbeats", func() bool {
			return p.state(t, id).Health == schemas.HealthOffline
		})
	})
	t.Run("an agent with the wrong node password reports the node unhealthy with a reason", func(t *testing.T) {
		node, id := p.nodes[2], p.ids[2]
		stop := runAgent(t, sys, id, node.Addr(), "not-the-node-password")
		defer stop()
		testkit.Eventually(t, sys.Services.NodeRegistry.OfflineAfter(), "unhealthy with the reason", func() bool {
			s := p.state(t, id)
			return s.Health == schemas.HealthUnhealthy && strings.Contains(s.Reason, "check the node's method and password")
		})
		p.session(t, 1<<20, 1, nil)
	})
}

// runAgent runs an outline agent for the node with its own NATS connection, probing the demo
// page through it; stop ends it.
func runAgent(t *testing.T, sys *httvps.System, id int64, nodeAddr, password string) (stop func()) {
	t.Helper()
	nc, err := nats.Connect(sys.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := url.Parse(sys.DemoPageURL())
	cfg := outlineagent.DefaultConfig()
	cfg.NodeID, cfg.NodeAddr, cfg.NodeMethod, cfg.NodePassword, cfg.ProbeTarget = id, nodeAddr, poolMethod, password, page.Host
	cfg.Interval = sys.Services.NodeRegistry.HeartbeatInterval
	cfg.ProbeTimeout = cfg.Interval / 4
	agent, err := outlineagent.New(cfg, outlineagent.Deps{NC: nc, Log: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = agent.Run(ctx) })
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			nc.Close()
		})
	}
	t.Cleanup(stop)
	return stop
}
