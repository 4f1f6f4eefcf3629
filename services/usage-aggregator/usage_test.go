package usageaggregator

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type plannedSession struct {
	id      string
	userID  int64
	device  string
	reports []schemas.UsageReport
}

type plannedMessage struct {
	report schemas.UsageReport
	msgID  string
}

// planUsage builds sessions x reports cumulative reports; users in anonymous have reports without user_id.
func planUsage(rng *rand.Rand, users []int64, devices []string, anonymous map[int64]bool, perUser, reports int) []plannedSession {
	now := time.Now().UTC()
	var out []plannedSession
	for i, u := range users {
		for range perUser {
			s := plannedSession{id: newSessionID(), userID: u, device: devices[i]}
			var up, down int64
			for seq := 1; seq <= reports; seq++ {
				dUp, dDown := rng.Int64N(50_000), rng.Int64N(500_000)
				up, down = up+dUp, down+dDown
				r := schemas.UsageReport{
					SessionID: s.id, Seq: uint64(seq), GatewayID: "gw-a", Region: "ru-1", DeviceID: devices[i],
					BytesUp: up, BytesDown: down, DeltaUp: dUp, DeltaDown: dDown,
					StartedAt: now.Add(-time.Hour), ReportedAt: now,
				}
				if !anonymous[u] {
					r.UserID = u
				}
				s.reports = append(s.reports, r)
			}
			out = append(out, s)
		}
	}
	return out
}

func TestUsageExactlyOnce(t *testing.T) {
	h := newHarness(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var users []int64
	var devices []string
	anonymous := map[int64]bool{}
	for i := range 5 {
		u := h.createUser(t)
		_, d := h.createDevice(t, u)
		users, devices = append(users, u), append(devices, d)
		if i >= 3 {
			anonymous[u] = true
		}
	}
	sessions := planUsage(rng, users, devices, anonymous, 4, 50)

	var msgs []plannedMessage
	resent := 0
	for _, s := range sessions {
		for _, r := range s.reports {
			id := schemas.UsageMsgID(r.SessionID, r.Seq)
			msgs = append(msgs, plannedMessage{r, id})
			switch rng.IntN(10) {
			case 0:
				msgs = append(msgs, plannedMessage{r, id})
			case 1:
				msgs = append(msgs, plannedMessage{r, "resent:" + id})
				resent++
			}
		}
	}
	rng.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })

	cfg := testConfig()
	cfg.BatchSize = 25
	a, b := h.start(t, cfg), h.start(t, cfg)
	for _, m := range msgs {
		h.publish(t, schemas.UsageSubject(m.report.Region, m.report.GatewayID), m.msgID, m.report)
	}
	h.drainedUsage(t)

	want := map[int64]byteTotals{}
	for _, s := range sessions {
		last := s.reports[len(s.reports)-1]
		got, ok := h.session(t, s.id)
		if !ok {
			t.Fatalf("session %s not stored", s.id)
		}
		if got.BytesUp != last.BytesUp || got.BytesDown != last.BytesDown || got.LastSeq != int64(last.Seq) || got.UserID != s.userID {
			t.Errorf("session %s: got up=%d down=%d seq=%d user=%d, want up=%d down=%d seq=%d user=%d", s.id,
				got.BytesUp, got.BytesDown, got.LastSeq, got.UserID, last.BytesUp, last.BytesDown, last.Seq, s.userID)
		}
		w := want[s.userID]
		want[s.userID] = byteTotals{Up: w.Up + last.BytesUp, Down: w.Down + last.BytesDown}
	}
	for _, u := range users {
		if got := h.periodUsage(t, u); got != want[u] {
			t.Errorf("user %d (anonymous reports %v): period usage %+v, want %+v", u, anonymous[u], got, want[u])
		}
	}

	stored := len(sessions)*50 + resent
	counted := 0.0
	for _, r := range []*running{a, b} {
		m := r.svc.m
		counted += testutil.ToFloat64(m.applied) + testutil.ToFloat64(m.duplicates)
		if terms := testutil.ToFloat64(m.consumer.Messages.WithLabelValues(schemas.ConsumerUsageAggregator, "term")); terms != 0 {
			t.Errorf("terminated %v good reports", terms)
		}
	}
	naks := testutil.ToFloat64(a.svc.m.consumer.Messages.WithLabelValues(schemas.ConsumerUsageAggregator, "nak")) +
		testutil.ToFloat64(b.svc.m.consumer.Messages.WithLabelValues(schemas.ConsumerUsageAggregator, "nak"))
	if naks == 0 && int(counted) != stored {
		t.Errorf("applied+duplicates = %v, want %d (one per stored message)", counted, stored)
	}
	dups := testutil.ToFloat64(a.svc.m.duplicates) + testutil.ToFloat64(b.svc.m.duplicates)
	if int(dups) < resent {
		t.Errorf("duplicates = %v, want at least the %d re-sent reports", dups, resent)
	}
	testkit.Eventually(t, waitTimeout, "pending gauges of both consumers at zero", func() bool {
		return testutil.CollectAndCount(a.svc.m.pending) == 2 &&
			testutil.ToFloat64(a.svc.m.pending.WithLabelValues(schemas.ConsumerUsageAggregator)) == 0
	})
	t.Logf("acked by aggregator a: %v, b: %v; naks %v; duplicates %v",
		testutil.ToFloat64(a.svc.m.consumer.Messages.WithLabelValues(schemas.ConsumerUsageAggregator, "ack")),
		testutil.ToFloat64(b.svc.m.consumer.Messages.WithLabelValues(schemas.ConsumerUsageAggregator, "ack")), naks, dups)
}
