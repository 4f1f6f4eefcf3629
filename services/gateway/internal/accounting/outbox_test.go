package accounting

import (
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

func newTestOutbox(t *testing.T, limit int) *Outbox {
	m, err := metrics.New(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return NewOutbox(limit, m, zerolog.Nop())
}

func TestOutboxKeepsNewestReportPerSession(t *testing.T) {
	o := newTestOutbox(t, 10)
	o.Started(schemas.SessionStarted{SessionID: "a"})
	o.Usage(schemas.UsageReport{SessionID: "a", Seq: 1, BytesUp: 10})
	o.Usage(schemas.UsageReport{SessionID: "a", Seq: 3, BytesUp: 30})
	o.Usage(schemas.UsageReport{SessionID: "a", Seq: 2, BytesUp: 20})
	o.Usage(schemas.UsageReport{SessionID: "b", Seq: 1})
	rec, ok := o.oldest()
	if !ok || rec.sessionID != "a" || rec.usage.Seq != 3 || rec.started == nil {
		t.Fatalf("oldest = %+v", rec)
	}
	o.Usage(schemas.UsageReport{SessionID: "a", Seq: 4, BytesUp: 40, Final: true})
	o.done(rec)
	if o.Len() != 2 {
		t.Fatalf("len = %d, want the newer report of a kept", o.Len())
	}
	next, _ := o.oldest()
	if next.sessionID != "b" {
		t.Fatalf("oldest = %s, want b before a's newer report", next.sessionID)
	}
	o.done(next)
	last, _ := o.oldest()
	if last.usage == nil || last.usage.Seq != 4 || !last.usage.Final || last.started != nil {
		t.Fatalf("a = %+v", last)
	}
}

func TestOutboxLimitDropsOldest(t *testing.T) {
	o := newTestOutbox(t, 2)
	for _, id := range []string{"a", "b", "c"} {
		o.Usage(schemas.UsageReport{SessionID: id, Seq: 1})
	}
	if o.Len() != 2 {
		t.Fatalf("len = %d", o.Len())
	}
	if rec, _ := o.oldest(); rec.sessionID != "b" {
		t.Fatalf("oldest = %s, want b", rec.sessionID)
	}
}

func TestUsageSteps(t *testing.T) {
	m, _ := metrics.New(prometheus.NewRegistry())
	u := NewUsage(&Totals{}, m)
	if _, ok := u.Next(false); ok {
		t.Fatal("a report with nothing moved")
	}
	u.AddUp(5)
	u.AddDown(7)
	s, ok := u.Next(false)
	if !ok || s.Seq != 1 || s.Up != 5 || s.Down != 7 || s.DeltaUp != 5 {
		t.Fatalf("step = %+v", s)
	}
	u.AddUp(1)
	s, _ = u.Next(true)
	if s.Seq != 2 || s.Up != 6 || s.DeltaUp != 1 || s.DeltaDown != 0 || !s.Final {
		t.Fatalf("final = %+v", s)
	}
	if _, ok := u.Next(true); ok {
		t.Fatal("a report after the final one")
	}
}
