package usageaggregator

import (
	"context"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/testkit"
	"github.com/uptrace/bun"
)

func TestSessionCreatedMeanwhileIsUpdated(t *testing.T) {
	h := &harness{db: openMigrated(t)}
	ctx := t.Context()
	user := h.createUser(t)
	_, device := h.createDevice(t, user)
	id := newSessionID()
	now := time.Now().UTC()
	report := func(seq, up, down int64) []sessionTotals {
		return []sessionTotals{{SessionID: id, UserID: user, DeviceUUID: device, GatewayID: "gw-race", Seq: seq,
			Up: up, Down: down, StartedAt: now, ReportedAt: now, Reports: 1}}
	}

	first, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Rollback() }()
	if _, err := newTotalsBatch(report(1, 100, 200)).apply(ctx, first, now); err != nil {
		t.Fatal(err)
	}

	type outcome struct {
		res applyResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		o.err = h.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			var err error
			o.res, err = newTotalsBatch(report(2, 150, 250)).apply(ctx, tx, now)
			return err
		})
		done <- o
	}()
	h.eventuallyWaitingOnLock(t)
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil {
		t.Fatalf("second batch: %v", o.err)
	}
	if o.res.Applied != 1 || o.res.AddedUp != 50 || o.res.AddedDown != 50 {
		t.Errorf("second batch result %+v, want 1 applied, 50 and 50 added", o.res)
	}
	s, ok := h.session(t, id)
	if !ok || s.BytesUp != 150 || s.BytesDown != 250 || s.LastSeq != 2 || s.UserID != user {
		t.Errorf("session %+v (found %v), want 150/250 seq 2 of user %d", s, ok, user)
	}
	if got := h.periodUsage(t, user); got != (byteTotals{Up: 150, Down: 250}) {
		t.Errorf("usage %+v, want 150/250", got)
	}
}

func (h *harness) eventuallyWaitingOnLock(t *testing.T) {
	t.Helper()
	testkit.Eventually(t, waitTimeout, "a transaction waits for the session insert", func() bool {
		var n int
		err := h.db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		return err == nil && n > 0
	})
}
