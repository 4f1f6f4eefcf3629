package e2e_test

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/httvps/system"
	"github.com/httvps/httvps/shared/testkit"
)

// TestLiveChanges changes plans, overrides, subscriptions and usage under live sessions: each
// reaches them without a reconnect (a new lease, a new bucket, or an end with its code).
func TestLiveChanges(t *testing.T) {
	e := newLimitsEnv(t, nil)
	bigLeases := e.bigLeaseGateway()

	t.Run("a lowered quota takes back the unused lease of a live session", func(t *testing.T) {
		u, devs := e.customer(map[string]any{"traffic_limit_gb": 0.2, "speed_limit_mbps": 16}, 1)
		s := e.mustDial(bigLeases, devs[0])
		st, err := s.OpenStream(context.Background(), e.source)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(io.Discard, st, 1<<20); err != nil {
			t.Fatal(err)
		}
		e.setLimits(u, map[string]any{"traffic_limit_gb": 0.002})
		rest, _ := io.Copy(io.Discard, st)
		endedWith(t, s, schemas.CodeLimitReached, schemas.LimitTraffic)
		got := 1<<20 + rest
		t.Logf("received %d bytes; the quota fell to %d while the session held a %d-byte lease", got, quotaBytes, 32<<20)
		if got > quotaBytes {
			t.Fatalf("received %d bytes, want at most the lowered quota %d", got, quotaBytes)
		}
	})

	t.Run("a plan update reaches the live sessions on the plan", func(t *testing.T) {
		u, devs := e.customer(map[string]any{"speed_limit_mbps": 8}, 1)
		e.raisedSpeed(devs[0], func() { e.updatePlan(e.planOf(u), map[string]any{"speed_limit_mbps": 400}) })
	})

	t.Run("a plan update that only concerns new sessions leaves live ones running", func(t *testing.T) {
		u, devs := e.customer(map[string]any{"max_devices": 2, "speed_limit_mbps": 8}, 2)
		second := e.mustDial(1, devs[1])
		e.raisedSpeed(devs[0], func() { e.updatePlan(e.planOf(u), map[string]any{"max_devices": 1, "speed_limit_mbps": 400}) })
		if _, err := e.dial(1, devs[1]); !refusedCode(err, schemas.CodeDeviceLimitReached) {
			t.Fatalf("new hello of the second device: %v, want DEVICE_LIMIT_REACHED", err)
		}
		if err := echoRoundTrip(second, e.echo, blob(12, 4<<10)); err != nil {
			t.Fatalf("the second device's live session after max_devices fell to 1: %v (session: %v)", err, second.Err())
		}
	})

	t.Run("a subscription moved to a smaller plan ends the session at the new quota", func(t *testing.T) {
		u, devs := e.customer(map[string]any{"speed_limit_mbps": 16}, 1)
		small := e.plan(map[string]any{"max_devices": 1, "traffic_limit_gb": 0.002})
		s := e.mustDial(bigLeases, devs[0])
		st, err := s.OpenStream(context.Background(), e.source)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(io.Discard, st, 512<<10); err != nil {
			t.Fatal(err)
		}
		e.movePlan(e.subscriptionOf(u), small)
		rest, _ := io.Copy(io.Discard, st)
		endedWith(t, s, schemas.CodeLimitReached, schemas.LimitTraffic)
		if got := 512<<10 + rest; got > quotaBytes {
			t.Fatalf("received %d bytes after moving to a %d-byte plan, want at most that", got, quotaBytes)
		}
	})

	t.Run("a usage reset lets a user at the limit connect again", func(t *testing.T) {
		u, devs := e.customer(map[string]any{"traffic_limit_gb": 0.002}, 1)
		s := e.mustDial(0, devs[0])
		got := download(s, e.source)
		endedWith(t, s, schemas.CodeLimitReached, schemas.LimitTraffic)
		testkit.Eventually(t, 20*time.Second, "the ended session's bytes reported", func() bool {
			return e.usageOf(u) >= got
		})
		if _, err := e.dial(0, devs[0]); !refusedWith(err, schemas.CodeLimitReached, schemas.LimitTraffic) {
			t.Fatalf("hello at the limit: %v, want LIMIT_REACHED traffic", err)
		}
		e.resetUsage(u)
		again := e.mustDial(1, devs[0])
		more := download(again, e.source)
		endedWith(t, again, schemas.CodeLimitReached, schemas.LimitTraffic)
		if more < quotaBytes-quotaShortfall || more > quotaBytes {
			t.Fatalf("received %d bytes after the reset, want most of the %d-byte quota again and no more", more, quotaBytes)
		}
	})

	t.Run("a usage reset gives a live session room beyond the old quota", func(t *testing.T) {
		const quota = 10_000_000
		u, devs := e.customer(map[string]any{"traffic_limit_gb": 0.01, "speed_limit_mbps": 16}, 1)
		s := e.mustDial(0, devs[0])
		st, err := s.OpenStream(context.Background(), e.source)
		if err != nil {
			t.Fatal(err)
		}
		var received atomic.Int64
		done := make(chan error, 1)
		go func() {
			_, err := io.Copy(writerFunc(func(b []byte) (int, error) {
				if received.Add(int64(len(b))) >= 12_000_000 {
					return len(b), errEnough
				}
				return len(b), nil
			}), st)
			done <- err
		}()
		testkit.Eventually(t, 20*time.Second, "8 MB received", func() bool { return received.Load() >= 8_000_000 })
		e.resetUsage(u)
		if err := <-done; !errors.Is(err, errEnough) {
			t.Fatalf("stream ended at %d bytes: %v (session: %v), want 12 MB on a 10 MB quota reset at 8 MB", received.Load(), err, s.Err())
		}
		t.Logf("received %d bytes on a %d-byte quota reset at 8 MB", received.Load(), quota)
	})
}

var errEnough = errors.New("enough")

func refusedCode(err error, code schemas.ErrorCode) bool {
	ge, ok := client.AsGatewayError(err)
	return ok && ge.Code == code
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// bigLeaseGateway starts a gateway that leases 32 MiB at a time, so a change that only applied at
// the next lease would show; it returns its index.
func (e *limitsEnv) bigLeaseGateway() int {
	e.t.Helper()
	gcfg := system.LoopbackGateway(e.t.TempDir(), "gw-big-leases", region)
	gcfg.LeaseBytes = 32 << 20
	gcfg.KeepaliveInterval = 200 * time.Millisecond
	gw, err := e.sys.StartGateway(context.Background(), gcfg)
	if err != nil {
		e.t.Fatalf("gateway: %v", err)
	}
	e.gws = append(e.gws, gw)
	return len(e.gws) - 1
}

func (e *limitsEnv) plan(fields map[string]any) int64 {
	e.t.Helper()
	fields["name"] = "plan-live-" + strconv.FormatInt(userSeq.Add(1), 10)
	var p struct {
		ID int64 `json:"id"`
	}
	if err := e.admin.Call(context.Background(), schemas.ResourcePlans, schemas.VerbCreate, schemas.AdminRequest{Body: jsonBody(e.t, fields)}, &p); err != nil {
		e.t.Fatalf("create plan: %v", err)
	}
	return p.ID
}

func (e *limitsEnv) updatePlan(planID int64, fields map[string]any) {
	e.t.Helper()
	if err := e.admin.Call(context.Background(), schemas.ResourcePlans, schemas.VerbUpdate, schemas.AdminRequest{ID: planID, Body: jsonBody(e.t, fields)}, nil); err != nil {
		e.t.Fatalf("update plan: %v", err)
	}
}

type subscriptionRow struct {
	ID     int64 `json:"id"`
	PlanID int64 `json:"plan_id"`
}

func (e *limitsEnv) subscriptionRow(userID int64) subscriptionRow {
	e.t.Helper()
	var subs []subscriptionRow
	req := schemas.AdminRequest{Limit: 1, Filter: map[string]string{"user_id": strconv.FormatInt(userID, 10)}}
	if err := e.admin.Call(context.Background(), schemas.ResourceSubscriptions, schemas.VerbList, req, &subs); err != nil || len(subs) != 1 {
		e.t.Fatalf("subscriptions of user %d: %v %v", userID, subs, err)
	}
	return subs[0]
}

func (e *limitsEnv) planOf(userID int64) int64 { return e.subscriptionRow(userID).PlanID }

func (e *limitsEnv) subscriptionOf(userID int64) int64 { return e.subscriptionRow(userID).ID }

func (e *limitsEnv) movePlan(subscriptionID, planID int64) {
	e.t.Helper()
	body := jsonBody(e.t, map[string]any{"plan_id": planID})
	if err := e.admin.Call(context.Background(), schemas.ResourceSubscriptions, schemas.VerbUpdate, schemas.AdminRequest{ID: subscriptionID, Body: body}, nil); err != nil {
		e.t.Fatalf("move subscription: %v", err)
	}
}

func (e *limitsEnv) usageOf(userID int64) int64 {
	e.t.Helper()
	var u struct {
		TotalBytes int64 `json:"total_bytes"`
	}
	if err := e.admin.Call(context.Background(), schemas.ResourceUsage, schemas.VerbGet, schemas.AdminRequest{ID: userID}, &u); err != nil {
		e.t.Fatalf("usage: %v", err)
	}
	return u.TotalBytes
}

func (e *limitsEnv) resetUsage(userID int64) {
	e.t.Helper()
	if err := e.admin.Call(context.Background(), schemas.ResourceUsage, schemas.VerbReset, schemas.AdminRequest{ID: userID}, nil); err != nil {
		e.t.Fatalf("reset usage: %v", err)
	}
}
