package usageaggregator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/httvps/httvps/shared/testkit"
)

type slotEnv struct {
	*harness
	t *testing.T
}

func newSlotEnv(t *testing.T, tune func(*Config)) *slotEnv {
	h := newHarness(t)
	cfg := testConfig()
	cfg.LeaseMin = 1000
	if tune != nil {
		tune(&cfg)
	}
	h.start(t, cfg)
	e := &slotEnv{harness: h, t: t}
	testkit.Eventually(t, waitTimeout, "slot endpoints answer", func() bool {
		_, err := rpc.Call[schemas.SlotReply](context.Background(), h.nc, schemas.SlotSubject(schemas.SubjectSessionClose, "gw-probe"),
			schemas.SessionCloseRequest{SessionID: newSessionID(), GatewayID: "gw-probe"}, time.Second)
		return !errors.Is(err, rpc.ErrUnavailable)
	})
	return e
}

// subscriber makes a user on a plan with the given traffic limit (GB, "" unlimited) and max_sessions.
func (e *slotEnv) subscriber(limitGB string, maxSessions int) int64 {
	u := e.createUser(e.t)
	var limit any
	if limitGB != "" {
		limit = limitGB
	}
	p := e.insertID(e.t, `INSERT INTO plans (name, max_devices, max_sessions, traffic_limit_gb) VALUES (?, 5, ?, ?::numeric) RETURNING id`,
		fmt.Sprintf("plan-%d", seedSeq.Add(1)), maxSessions, limit)
	e.subscribe(e.t, u, p)
	return u
}

func (e *slotEnv) device(userID int64) string {
	_, uuid := e.createDevice(e.t, userID)
	return uuid
}

func (e *slotEnv) open(gateway, device string, want int64) (string, schemas.SessionOpenReply) {
	id := newSessionID()
	return id, e.openID(id, gateway, device, want)
}

func (e *slotEnv) openID(id, gateway, device string, want int64) schemas.SessionOpenReply {
	rep, err := rpc.Call[schemas.SessionOpenReply](context.Background(), e.nc, schemas.SlotSubject(schemas.SubjectSessionOpen, gateway),
		schemas.SessionOpenRequest{SessionID: id, GatewayID: gateway, DeviceID: device, Want: want}, 5*time.Second)
	if err != nil {
		e.t.Fatalf("session-open: %v", err)
	}
	return rep
}

func (e *slotEnv) lease(req schemas.LeaseRequest) schemas.LeaseReply {
	rep, err := rpc.Call[schemas.LeaseReply](context.Background(), e.nc, schemas.SlotSubject(schemas.SubjectSessionLease, req.GatewayID), req, 5*time.Second)
	if err != nil {
		e.t.Fatalf("lease: %v", err)
	}
	return rep
}

func (e *slotEnv) close(id, gateway string, used int64) {
	rep, err := rpc.Call[schemas.SlotReply](context.Background(), e.nc, schemas.SlotSubject(schemas.SubjectSessionClose, gateway),
		schemas.SessionCloseRequest{SessionID: id, GatewayID: gateway, Used: used}, 5*time.Second)
	if err != nil || !rep.OK {
		e.t.Fatalf("session-close: %+v %v", rep, err)
	}
}

func (e *slotEnv) keepalive(gateway string, ids ...string) schemas.KeepaliveReply {
	rep, err := rpc.Call[schemas.KeepaliveReply](context.Background(), e.nc, schemas.SlotSubject(schemas.SubjectSessionKeepalive, gateway),
		schemas.KeepaliveRequest{GatewayID: gateway, SessionIDs: ids}, 5*time.Second)
	if err != nil {
		e.t.Fatalf("keepalive: %v", err)
	}
	return rep
}

func refusedWith(rep schemas.SessionOpenReply, code schemas.ErrorCode, limit schemas.LimitKind) bool {
	return !rep.OK && rep.Error != nil && rep.Error.Code == code && rep.Error.Limit == limit && rep.Error.Message != ""
}

func TestSessionSlots(t *testing.T) {
	e := newSlotEnv(t, nil)

	t.Run("max_sessions counts live sessions across gateways", func(t *testing.T) {
		u := e.subscriber("", 2)
		a, b, c := e.device(u), e.device(u), e.device(u)
		idA, rep := e.open("gw-1", a, 0)
		if !rep.OK || rep.Lease == nil || !rep.Lease.Unlimited || rep.TTLMS <= 0 {
			t.Fatalf("first open = %+v", rep)
		}
		if _, rep := e.open("gw-2", b, 0); !rep.OK {
			t.Fatalf("second open = %+v", rep)
		}
		if _, rep := e.open("gw-1", c, 0); !refusedWith(rep, schemas.CodeLimitReached, schemas.LimitSessions) {
			t.Fatalf("third open = %+v, want LIMIT_REACHED sessions", rep)
		}
		e.close(idA, "gw-1", 0)
		if _, rep := e.open("gw-1", c, 0); !rep.OK {
			t.Fatalf("open after a close = %+v", rep)
		}
	})

	t.Run("a new session of the same device replaces the old one", func(t *testing.T) {
		rec := e.recordControl(t)
		u := e.subscriber("", 1)
		d := e.device(u)
		first, rep := e.open("gw-1", d, 0)
		if !rep.OK {
			t.Fatalf("first open = %+v", rep)
		}
		second, rep := e.open("gw-2", d, 0)
		if !rep.OK || len(rep.Replaced) != 1 || rep.Replaced[0] != first {
			t.Fatalf("second open = %+v, want it to replace %s", rep, first)
		}
		testkit.Eventually(t, waitTimeout, "replaced event", func() bool {
			for _, ev := range rec.snapshot(t) {
				if ev.Scope == schemas.ScopeSession && ev.ID == first && ev.Code == schemas.CodeSessionReplaced && ev.What == schemas.ControlKick {
					return true
				}
			}
			return false
		})
		if l := e.lease(schemas.LeaseRequest{SessionID: first, GatewayID: "gw-1", Want: 1}); l.OK || l.Error.Code != schemas.CodeSessionReplaced {
			t.Fatalf("lease of the replaced session = %+v", l)
		}
		if ka := e.keepalive("gw-2", second); len(ka.Unknown) != 0 {
			t.Fatalf("keepalive of the new session = %+v", ka)
		}
		if ka := e.keepalive("gw-1", first); len(ka.Unknown) != 0 {
			t.Fatalf("keepalive of the replaced session = %+v, want it not named (it ends with SESSION_REPLACED)", ka)
		}
	})

	t.Run("racing for the last slot: exactly one wins", func(t *testing.T) {
		u := e.subscriber("", 1)
		const racers = 8
		devices := make([]string, racers)
		for i := range devices {
			devices[i] = e.device(u)
		}
		var mu sync.Mutex
		won, lost := 0, 0
		var wg sync.WaitGroup
		for i, d := range devices {
			wg.Go(func() {
				_, rep := e.open(fmt.Sprintf("gw-%d", i%2), d, 0)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case rep.OK:
					won++
				case refusedWith(rep, schemas.CodeLimitReached, schemas.LimitSessions):
					lost++
				default:
					t.Errorf("open = %+v", rep)
				}
			})
		}
		wg.Wait()
		if won != 1 || lost != racers-1 {
			t.Fatalf("won %d, lost %d; want 1 and %d", won, lost, racers-1)
		}
	})

	t.Run("retried open is the same slot", func(t *testing.T) {
		u := e.subscriber("1", 1)
		d := e.device(u)
		id, rep := e.open("gw-1", d, 5000)
		again := e.openID(id, "gw-1", d, 5000)
		if !rep.OK || !again.OK || again.Lease.Granted != rep.Lease.Granted || len(again.Replaced) != 0 {
			t.Fatalf("open %+v, retry %+v", rep, again)
		}
		if n := e.count(t, `SELECT count(*) FROM live_sessions WHERE user_id = ?`, u); n != 1 {
			t.Fatalf("%d slots, want 1", n)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		u := e.subscriber("", 1)
		d := e.device(u)
		noSub := e.createUser(t)
		_, noSubDevice := e.createDevice(t, noSub)
		for _, tc := range []struct {
			name string
			req  schemas.SessionOpenRequest
			code schemas.ErrorCode
		}{
			{"session id not a uuid", schemas.SessionOpenRequest{SessionID: "s-1", GatewayID: "gw-1", DeviceID: d}, schemas.CodeInvalidArgument},
			{"gateway id with a dot", schemas.SessionOpenRequest{SessionID: newSessionID(), GatewayID: "gw.1", DeviceID: d}, schemas.CodeInvalidArgument},
			{"no device", schemas.SessionOpenRequest{SessionID: newSessionID(), GatewayID: "gw-1"}, schemas.CodeInvalidArgument},
			{"negative want", schemas.SessionOpenRequest{SessionID: newSessionID(), GatewayID: "gw-1", DeviceID: d, Want: -1}, schemas.CodeInvalidArgument},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := rpc.Call[schemas.SessionOpenReply](context.Background(), e.nc, schemas.SlotSubject(schemas.SubjectSessionOpen, tc.req.GatewayID), tc.req, 5*time.Second)
				if re, ok := rpc.AsRPCError(err); !ok || re.Code != tc.code {
					t.Fatalf("err = %v, want %s", err, tc.code)
				}
			})
		}
		for _, tc := range []struct {
			name   string
			device string
			code   schemas.ErrorCode
		}{
			{"unknown device", "no-such-device", schemas.CodeDeviceNotFound},
			{"no subscription", noSubDevice, schemas.CodeNoSubscription},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, rep := e.open("gw-1", tc.device, 0); !refusedWith(rep, tc.code, "") {
					t.Fatalf("open = %+v, want %s", rep, tc.code)
				}
			})
		}
		if l := e.lease(schemas.LeaseRequest{SessionID: newSessionID(), GatewayID: "gw-1", Want: 1}); l.OK || l.Error.Code != schemas.CodeSessionKicked {
			t.Fatalf("lease of an unknown session = %+v", l)
		}
	})

	t.Run("a request naming another gateway than its subject is refused and changes nothing", func(t *testing.T) {
		u := e.subscriber("0.001", 1)
		id, rep := e.open("gw-1", e.device(u), 1000)
		if !rep.OK {
			t.Fatalf("open = %+v", rep)
		}
		for _, tc := range []struct {
			name, base string
			req        any
		}{
			{"open", schemas.SubjectSessionOpen, schemas.SessionOpenRequest{SessionID: newSessionID(), GatewayID: "gw-1", DeviceID: e.device(u)}},
			{"lease", schemas.SubjectSessionLease, schemas.LeaseRequest{SessionID: id, GatewayID: "gw-1", Used: 1000, Held: 1000, Want: 1000}},
			{"close", schemas.SubjectSessionClose, schemas.SessionCloseRequest{SessionID: id, GatewayID: "gw-1"}},
			{"keepalive", schemas.SubjectSessionKeepalive, schemas.KeepaliveRequest{GatewayID: "gw-1", SessionIDs: []string{id}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := rpc.Call[schemas.SlotReply](context.Background(), e.nc, schemas.SlotSubject(tc.base, "gw-intruder"), tc.req, 5*time.Second)
				if re, ok := rpc.AsRPCError(err); !ok || re.Code != schemas.CodeInvalidArgument || !strings.Contains(re.Message, "differs from the gateway of subject") {
					t.Fatalf("err = %v, want INVALID_ARGUMENT naming the subject", err)
				}
			})
		}
		if l := e.lease(schemas.LeaseRequest{SessionID: id, GatewayID: "gw-1", Used: 1000, Held: 1000, Want: 1000}); !l.OK || l.Lease.Granted != 2000 {
			t.Fatalf("the session's own lease after the intruder = %+v, want its slot open and 2000 granted", l)
		}
	})
}

func TestSlotsOfALostGatewayExpire(t *testing.T) {
	e := newSlotEnv(t, func(c *Config) { c.SlotTTL = 500 * time.Millisecond })
	u := e.subscriber("0.001", 1)
	lost, rep := e.open("gw-lost", e.device(u), 400_000)
	if !rep.OK || rep.Lease.Granted != 400_000 {
		t.Fatalf("open = %+v", rep)
	}
	other := e.device(u)
	testkit.Eventually(t, waitTimeout, "the lost gateway's slot expires", func() bool {
		_, rep := e.open("gw-live", other, 1_000_000)
		return rep.OK && rep.Lease.Granted == 1_000_000
	})
	if ka := e.keepalive("gw-lost", lost); len(ka.Unknown) != 1 {
		t.Fatalf("keepalive after expiry = %+v, want the session unknown", ka)
	}
}

func TestTrafficLeases(t *testing.T) {
	e := newSlotEnv(t, nil)
	const limit = 1_000_000 // 0.001 GB

	t.Run("four sessions on two gateways share the quota byte for byte", func(t *testing.T) {
		u := e.subscriber("0.001", 4)
		type sess struct {
			id, gw string
			held   int64
		}
		var all []*sess
		for i := range 4 {
			gw := fmt.Sprintf("gw-%d", i%2)
			id, rep := e.open(gw, e.device(u), 100_000)
			if !rep.OK || rep.Lease.Granted <= 0 || rep.Lease.Unlimited {
				t.Fatalf("open %d = %+v", i, rep)
			}
			all = append(all, &sess{id: id, gw: gw, held: rep.Lease.Granted})
		}
		for live := len(all); live > 0; {
			live = 0
			for _, s := range all {
				rep := e.lease(schemas.LeaseRequest{SessionID: s.id, GatewayID: s.gw, Used: s.held, Held: s.held, Want: 100_000})
				if !rep.OK {
					t.Fatalf("lease = %+v", rep)
				}
				if !rep.Lease.Exhausted {
					live++
				}
				s.held = rep.Lease.Granted
			}
		}
		var total int64
		for _, s := range all {
			total += s.held
		}
		if total != limit {
			t.Fatalf("granted %d in all, want exactly %d", total, limit)
		}
	})

	t.Run("unused lease returns to the pool at close; reported usage is counted once", func(t *testing.T) {
		u := e.subscriber("0.001", 2)
		a, rep := e.open("gw-1", e.device(u), 600_000)
		if !rep.OK || rep.Lease.Granted != 600_000 {
			t.Fatalf("open a = %+v", rep)
		}
		b, rep := e.open("gw-1", e.device(u), 600_000)
		if !rep.OK || rep.Lease.Granted != 200_000 {
			t.Fatalf("open b = %+v, want half of the 400000 left (two live sessions)", rep)
		}
		e.close(a, "gw-1", 250_000)
		// the final report of a arrives: its session row and the month now hold its 250000 bytes
		e.exec(t, `INSERT INTO sessions (id, user_id, device_uuid, gateway_node_name, bytes_up, bytes_down) VALUES (?, ?, 'd', 'gw-1', 50000, 200000)`, a, u)
		e.exec(t, `INSERT INTO usage_periods (user_id, period_start, bytes_up, bytes_down)
			VALUES (?, date_trunc('month', now() AT TIME ZONE 'UTC')::date, 50000, 200000)`, u)
		got := e.lease(schemas.LeaseRequest{SessionID: b, GatewayID: "gw-1", Used: 200_000, Held: 200_000, Want: 1_000_000})
		if !got.OK || got.Lease.Granted != 750_000 {
			t.Fatalf("lease after a closed = %+v, want 750000 in all (350000 of a returned)", got)
		}
	})

	t.Run("a lost reply is not granted twice", func(t *testing.T) {
		u := e.subscriber("0.001", 1)
		id, _ := e.open("gw-1", e.device(u), 100_000)
		first := e.lease(schemas.LeaseRequest{SessionID: id, GatewayID: "gw-1", Used: 100_000, Held: 100_000, Want: 100_000})
		retry := e.lease(schemas.LeaseRequest{SessionID: id, GatewayID: "gw-1", Used: 100_000, Held: 100_000, Want: 100_000})
		if first.Lease.Granted != 200_000 || retry.Lease.Granted != 200_000 {
			t.Fatalf("first %+v, retry %+v; want 200000 both", first.Lease, retry.Lease)
		}
	})

	t.Run("an override wins over the plan at the next lease", func(t *testing.T) {
		u := e.subscriber("0.001", 1)
		id, rep := e.open("gw-1", e.device(u), 1_000_000)
		if rep.Lease.Granted != limit {
			t.Fatalf("open = %+v", rep)
		}
		if l := e.lease(schemas.LeaseRequest{SessionID: id, GatewayID: "gw-1", Used: limit, Held: limit, Want: 1000}); !l.Lease.Exhausted {
			t.Fatalf("lease at the limit = %+v, want exhausted", l)
		}
		e.exec(t, `UPDATE users SET traffic_limit_gb = 0.002 WHERE id = ?`, u)
		if l := e.lease(schemas.LeaseRequest{SessionID: id, GatewayID: "gw-1", Used: limit, Held: limit, Want: 1000}); l.Lease.Exhausted || l.Lease.Granted != limit+1000 {
			t.Fatalf("lease after raising the limit = %+v", l)
		}
	})

	t.Run("a lowered limit takes back the unused part of the leases", func(t *testing.T) {
		u := e.subscriber("0.001", 2)
		a, rep := e.open("gw-1", e.device(u), 600_000)
		if rep.Lease.Granted != 600_000 {
			t.Fatalf("open a = %+v", rep)
		}
		b, rep := e.open("gw-2", e.device(u), 600_000)
		if rep.Lease.Granted != 200_000 {
			t.Fatalf("open b = %+v", rep)
		}
		e.exec(t, `UPDATE users SET traffic_limit_gb = 0.0005 WHERE id = ?`, u)
		ra := e.lease(schemas.LeaseRequest{SessionID: a, GatewayID: "gw-1", Used: 100_000, Held: 600_000, Want: 600_000})
		if !ra.OK || ra.Lease.Granted != 300_000 || !ra.Lease.Exhausted {
			t.Fatalf("a after lowering to 500000 = %+v, want 300000 (800000 held, 300000 taken back) and exhausted", ra.Lease)
		}
		rb := e.lease(schemas.LeaseRequest{SessionID: b, GatewayID: "gw-2", Used: 150_000, Held: 200_000, Want: 600_000})
		if !rb.OK || rb.Lease.Granted != 200_000 || !rb.Lease.Exhausted {
			t.Fatalf("b = %+v, want its 200000 kept (the leases now hold exactly the limit)", rb.Lease)
		}
		e.exec(t, `UPDATE users SET traffic_limit_gb = 0.0001 WHERE id = ?`, u)
		ra = e.lease(schemas.LeaseRequest{SessionID: a, GatewayID: "gw-1", Used: 250_000, Held: 300_000, Want: 600_000})
		if ra.Lease.Granted != 250_000 || !ra.Lease.Exhausted {
			t.Fatalf("a below what it moved = %+v, want what it already moved (250000)", ra.Lease)
		}
		retry := e.lease(schemas.LeaseRequest{SessionID: a, GatewayID: "gw-1", Used: 250_000, Held: 300_000, Want: 600_000})
		if retry.Lease.Granted != 250_000 || !retry.Lease.Exhausted {
			t.Fatalf("retried = %+v, want the same answer", retry.Lease)
		}
	})

	t.Run("a session limited after moving unlimited bytes is granted up to the limit, not beyond", func(t *testing.T) {
		u := e.subscriber("", 1)
		id, rep := e.open("gw-1", e.device(u), 100_000)
		if !rep.Lease.Unlimited {
			t.Fatalf("open = %+v, want unlimited", rep)
		}
		e.exec(t, `UPDATE users SET traffic_limit_gb = 0.001 WHERE id = ?`, u)
		l := e.lease(schemas.LeaseRequest{SessionID: id, GatewayID: "gw-1", Used: 300_000, Held: 0, Want: 5_000_000})
		if l.Lease.Unlimited || l.Lease.Granted != limit {
			t.Fatalf("lease = %+v, want %d in all (the 300000 moved while unlimited count)", l.Lease, limit)
		}
	})

	t.Run("a few bytes left are no session: an open needs one minimal lease", func(t *testing.T) {
		u := e.subscriber("0.001", 2)
		a, rep := e.open("gw-1", e.device(u), limit-500)
		if !rep.OK || rep.Lease.Granted != limit-500 {
			t.Fatalf("open = %+v", rep)
		}
		if _, rep := e.open("gw-1", e.device(u), 100_000); !refusedWith(rep, schemas.CodeLimitReached, schemas.LimitTraffic) {
			t.Fatalf("open with 500 bytes left (minimal lease 1000) = %+v, want LIMIT_REACHED traffic", rep)
		}
		if l := e.lease(schemas.LeaseRequest{SessionID: a, GatewayID: "gw-1", Used: limit - 500, Held: limit - 500, Want: 100_000}); l.Lease.Granted != limit {
			t.Fatalf("the live session's lease = %+v, want the last 500 bytes granted whole", l.Lease)
		}
	})

	t.Run("an exhausted quota refuses the next open", func(t *testing.T) {
		u := e.subscriber("0.001", 2)
		if _, rep := e.open("gw-1", e.device(u), 2_000_000); !rep.OK || rep.Lease.Granted != limit {
			t.Fatalf("open = %+v", rep)
		}
		if _, rep := e.open("gw-1", e.device(u), 1000); !refusedWith(rep, schemas.CodeLimitReached, schemas.LimitTraffic) {
			t.Fatalf("open with nothing left = %+v, want LIMIT_REACHED traffic", rep)
		}
	})
}
