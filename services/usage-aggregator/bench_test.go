package usageaggregator

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/uptrace/bun"
)

const (
	benchUsers    = 100
	benchSessions = 1000
)

type benchFleet struct {
	users   []int64
	devices []string
	ids     []string
	seq     []uint64
}

func (h *harness) benchFleet(b testing.TB) *benchFleet {
	b.Helper()
	f := &benchFleet{}
	for range benchUsers {
		u := h.createUser(b)
		_, d := h.createDevice(b, u)
		f.users, f.devices = append(f.users, u), append(f.devices, d)
	}
	for range benchSessions {
		f.ids = append(f.ids, newSessionID())
	}
	f.seq = make([]uint64, benchSessions)
	return f
}

// next returns the next cumulative report, round robin over the sessions.
func (f *benchFleet) next(i int, now time.Time) schemas.UsageReport {
	s := i % benchSessions
	f.seq[s]++
	seq := f.seq[s]
	u := s % benchUsers
	return schemas.UsageReport{
		SessionID: f.ids[s], Seq: seq, GatewayID: "gw-bench", Region: "ru-1", UserID: f.users[u], DeviceID: f.devices[u],
		BytesUp: int64(seq) * 1000, BytesDown: int64(seq) * 9000, DeltaUp: 1000, DeltaDown: 9000,
		StartedAt: now, ReportedAt: now,
	}
}

func (h *harness) publishAsync(b *testing.B, reports []schemas.UsageReport) {
	b.Helper()
	for _, r := range reports {
		data, err := json.Marshal(r)
		if err != nil {
			b.Fatal(err)
		}
		msg := &nats.Msg{Subject: schemas.UsageSubject(r.Region, r.GatewayID), Data: data}
		if _, err := h.js.PublishMsgAsync(msg, jetstream.WithMsgID(schemas.UsageMsgID(r.SessionID, r.Seq))); err != nil {
			b.Fatalf("publish: %v", err)
		}
	}
	select {
	case <-h.js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("publish did not complete")
	}
}

// BenchmarkIngestUsageReports measures reports/s from JetStream into PostgreSQL through one Service
// with the default batch and workers: the reports are in the stream before the clock starts.
func BenchmarkIngestUsageReports(b *testing.B) {
	h := newHarness(b)
	fleet := h.benchFleet(b)
	now := time.Now().UTC()
	reports := make([]schemas.UsageReport, b.N)
	for i := range reports {
		reports[i] = fleet.next(i, now)
	}
	h.publishAsync(b, reports)
	b.ResetTimer()
	start := time.Now()
	h.start(b, testConfig())
	h.drainedUsage(b)
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reports/s")
}

// BenchmarkApplyTotalsBatch measures the database part alone: one transaction per batch of 500
// reports; an op is one report.
func BenchmarkApplyTotalsBatch(b *testing.B) {
	const batch = 500
	h := &harness{db: openMigrated(b)}
	fleet := h.benchFleet(b)
	now := time.Now().UTC()
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; done += batch {
		reports := make([]sessionTotals, min(batch, b.N-done))
		for j := range reports {
			r := fleet.next(done+j, now)
			reports[j] = sessionTotals{SessionID: r.SessionID, UserID: r.UserID, DeviceUUID: r.DeviceID, GatewayID: r.GatewayID,
				Region: r.Region, Seq: int64(r.Seq), Up: r.BytesUp, Down: r.BytesDown, StartedAt: now, ReportedAt: now, Reports: 1}
		}
		err := h.db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
			_, err := newTotalsBatch(reports).apply(ctx, tx, now)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reports/s")
}
