package accounts

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
)

func TestControlEvents(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ExpiryInterval = 50 * time.Millisecond })
	events := e.watchControl(t)
	userID := func(u User) string { return strconv.FormatInt(u.ID, 10) }
	check := func(t *testing.T, ev schemas.ControlEvent, what schemas.ControlWhat, code schemas.ErrorCode) {
		t.Helper()
		if ev.What != what || ev.Code != code || ev.Reason == "" || time.Since(ev.IssuedAt) > time.Minute {
			t.Fatalf("event = %+v, want %s %s", ev, what, code)
		}
	}

	t.Run("ban", func(t *testing.T) {
		u, _ := e.subscriber(t, 3, "")
		e.mustAdmin(t, "users", "set-status", schemas.AdminRequest{ID: u.ID, Body: json.RawMessage(`{"status":"banned"}`)}, nil)
		check(t, events.next(t, schemas.ScopeUser, userID(u)), schemas.ControlKick, schemas.CodeUserBanned)
	})
	t.Run("pending", func(t *testing.T) {
		u, _ := e.subscriber(t, 3, "")
		e.mustAdmin(t, "users", "set-status", schemas.AdminRequest{ID: u.ID, Body: json.RawMessage(`{"status":"pending"}`)}, nil)
		check(t, events.next(t, schemas.ScopeUser, userID(u)), schemas.ControlKick, schemas.CodeNoSubscription)
	})
	t.Run("revoke", func(t *testing.T) {
		_, d := e.subscriber(t, 3, "")
		e.mustAdmin(t, "devices", "revoke", schemas.AdminRequest{ID: d.ID, Body: json.RawMessage(`{"reason":"stolen phone"}`)}, nil)
		ev := events.next(t, schemas.ScopeDevice, d.DeviceUUID)
		check(t, ev, schemas.ControlRevoke, schemas.CodeDeviceRevoked)
		if ev.Reason != "stolen phone" {
			t.Fatalf("reason = %q", ev.Reason)
		}
	})
	t.Run("rotate", func(t *testing.T) {
		_, d := e.subscriber(t, 3, "")
		e.mustAdmin(t, "devices", "rotate", schemas.AdminRequest{ID: d.ID}, nil)
		check(t, events.next(t, schemas.ScopeDevice, d.DeviceUUID), schemas.ControlRevoke, schemas.CodeInvalidToken)
	})
	t.Run("cancel", func(t *testing.T) {
		u := e.user(t, "")
		s := e.subscribe(t, u.ID, e.plan(t, 1, "").ID, 30)
		e.mustAdmin(t, "subscriptions", "cancel", schemas.AdminRequest{ID: s.ID}, nil)
		check(t, events.next(t, schemas.ScopeUser, userID(u)), schemas.ControlKick, schemas.CodeNoSubscription)
	})
	t.Run("expiry", func(t *testing.T) {
		u, d := e.subscriber(t, 3, "")
		e.exec(t, "UPDATE subscriptions SET valid_until = now() - interval '1 second' WHERE user_id = ?", u.ID)
		check(t, events.next(t, schemas.ScopeUser, userID(u)), schemas.ControlKick, schemas.CodeSubscriptionExpired)
		var subs []Subscription
		e.mustAdmin(t, "subscriptions", "list", schemas.AdminRequest{Filter: map[string]string{"user_id": userID(u)}}, &subs)
		if len(subs) != 1 || subs[0].Status != "expired" {
			t.Fatalf("after expiry = %+v", subs)
		}
		if rep := e.validate(t, d); refusal(rep) != "SUBSCRIPTION_EXPIRED" {
			t.Fatalf("validate after expiry = %s", refusal(rep))
		}
	})
	if n := counterValue(t, e.reg, "httvps_accounts_control_events_total", "", ""); n < 6 {
		t.Fatalf("control_events_total = %v", n)
	}
}

func TestExpiryOfReplacedSubscriptionKicksNobody(t *testing.T) {
	e := newEnv(t)
	events := e.watchControl(t)
	u := e.user(t, "")
	p := e.plan(t, 1, "")
	old := e.subscribe(t, u.ID, p.ID, 30)
	e.exec(t, "UPDATE subscriptions SET valid_until = now() - interval '1 second' WHERE id = ?", old.ID)
	e.subscribe(t, u.ID, p.ID, 30)
	// the service's own first sweep may run after the update and take the row: either way it is
	// this service that expires it and publishes on the NATS watched here
	if _, err := e.svc.sweepExpired(t.Context()); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	var status string
	if err := e.db.NewSelect().Model((*Subscription)(nil)).Column("status").Where("id = ?", old.ID).Scan(t.Context(), &status); err != nil || status != statusExpired {
		t.Fatalf("replaced subscription status %q (%v), want expired", status, err)
	}
	marker := e.user(t, "")
	e.mustAdmin(t, "users", "set-status", schemas.AdminRequest{ID: marker.ID, Body: json.RawMessage(`{"status":"banned"}`)}, nil)
	for _, ev := range events.before(t, schemas.ScopeUser, fmt.Sprint(marker.ID)) {
		if ev.ID == fmt.Sprint(u.ID) {
			t.Fatalf("user with a current subscription kicked: %+v", ev)
		}
	}
}

func TestSweepExpiredReportsEachRowOnce(t *testing.T) {
	e := newEnv(t)
	second, _, _ := startService(t, e.nats, e.db, testConfig())
	events := e.watchControl(t)
	const n = 40
	p := e.plan(t, 1, "")
	for i := 0; i < n; i++ {
		u := e.user(t, "")
		e.subscribe(t, u.ID, p.ID, 1)
	}
	e.exec(t, "UPDATE subscriptions SET valid_until = now() - interval '1 minute'")

	var wg sync.WaitGroup
	counts := make([]int, 6)
	for i := range counts {
		svc := e.svc
		if i%2 == 1 {
			svc = second
		}
		wg.Go(func() {
			got, err := svc.sweepExpired(t.Context())
			if err != nil {
				t.Error(err)
			}
			counts[i] = got
		})
	}
	wg.Wait()
	total := 0
	for _, c := range counts {
		total += c
	}
	if total != n {
		t.Fatalf("sweeps reported %v = %d rows, want %d", counts, total, n)
	}
	marker := e.user(t, "")
	e.mustAdmin(t, "users", "set-status", schemas.AdminRequest{ID: marker.ID, Body: json.RawMessage(`{"status":"banned"}`)}, nil)
	seen := map[string]int{}
	for _, ev := range events.before(t, schemas.ScopeUser, fmt.Sprint(marker.ID)) {
		if ev.Code == schemas.CodeSubscriptionExpired {
			seen[ev.ID]++
		}
	}
	if len(seen) != n {
		t.Fatalf("expiry events for %d users, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("user %s got %d expiry events", id, c)
		}
	}
}
