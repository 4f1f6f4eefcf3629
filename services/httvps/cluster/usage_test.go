package cluster_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

const reportBytes = 1000

// reporter sends usage reports the way a gateway does: cumulative totals per session, one
// seq after the other, each retried until JetStream acknowledges it.
type reporter struct {
	js       jetstream.JetStream
	gateway  string
	user     subscriber
	sessions []string
	acked    atomic.Int64
}

func newReporter(t *testing.T, s *system, gateway string, user subscriber, sessions int) *reporter {
	t.Helper()
	js, err := jetstream.New(s.nats.Conn(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	r := &reporter{js: js, gateway: gateway, user: user}
	now := time.Now().UTC()
	for range sessions {
		id := newUUID()
		r.sessions = append(r.sessions, id)
		r.send(t, schemas.SessionSubject(schemas.SessionStartedEvent, gateway), id+":started", schemas.SessionStarted{
			SessionID: id, GatewayID: gateway, Region: region, UserID: user.UserID, DeviceID: user.Device, StartedAt: now,
		})
	}
	return r
}

func (r *reporter) send(t *testing.T, subject, msgID string, v any) {
	data, _ := json.Marshal(v)
	deadline := time.Now().Add(waitLong)
	for {
		msg := nats.NewMsg(subject)
		msg.Data = data
		msg.Header.Set(schemas.HeaderMsgID, msgID)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := r.js.PublishMsg(ctx, msg)
		cancel()
		if err == nil {
			r.acked.Add(1)
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("publish %s not acknowledged within %s: %v", subject, waitLong, err)
			return
		}
		time.Sleep(50 * time.Millisecond) // a gateway's publish retry, not a wait for a condition
	}
}

// report sends seqs from..to of every session, the sessions side by side.
func (r *reporter) report(t *testing.T, from, to int) {
	t.Helper()
	var wg sync.WaitGroup
	for _, id := range r.sessions {
		wg.Go(func() {
			for seq := from; seq <= to; seq++ {
				now := time.Now().UTC()
				r.send(t, schemas.UsageSubject(region, r.gateway), schemas.UsageMsgID(id, uint64(seq)), schemas.UsageReport{
					SessionID: id, Seq: uint64(seq), GatewayID: r.gateway, Region: region, UserID: r.user.UserID,
					DeviceID: r.user.Device, BytesUp: int64(seq), BytesDown: int64(seq) * reportBytes,
					DeltaUp: 1, DeltaDown: reportBytes, StartedAt: now, ReportedAt: now,
				})
			}
		})
	}
	wg.Wait()
}

// stored waits until every session holds the totals of seq last and the user's period the
// sum of them: a lost report would leave less, a report counted twice more.
func (r *reporter) stored(t *testing.T, s *system, last int) {
	t.Helper()
	wantDown := int64(last) * reportBytes * int64(len(r.sessions))
	var down, sessions int64
	testkit.Eventually(t, waitLong, "every report's totals in PostgreSQL", func() bool {
		ok := s.query(t, `SELECT COALESCE(SUM(bytes_down), 0), COUNT(*) FROM sessions WHERE id = ANY(?::uuid[]) AND last_seq = ?`,
			[]any{"{" + strings.Join(r.sessions, ",") + "}", last}, &down, &sessions)
		return ok && sessions == int64(len(r.sessions))
	})
	if down != wantDown {
		t.Fatalf("sessions hold %d bytes down, the reports said %d", down, wantDown)
	}
	var period int64
	testkit.Eventually(t, waitLong, "the user's period usage", func() bool {
		return s.query(t, `SELECT bytes_down FROM usage_periods WHERE user_id = ?`, []any{r.user.UserID}, &period) && period >= wantDown
	})
	if period != wantDown {
		t.Fatalf("user's period holds %d bytes down, the reports said %d (counted twice?)", period, wantDown)
	}
}

// acks is what a service copy acknowledged on the consumer, from its own metrics.
func acks(t *testing.T, reg *prometheus.Registry, consumer string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "httvps_consumer_messages_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if label(m, "consumer") == consumer && label(m, "outcome") == "ack" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
