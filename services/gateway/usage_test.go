package gateway_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
	"github.com/httvps/httvps/shared/testkit"
)

// moveBytes runs streams echo round trips of size bytes and returns the bytes moved each way.
func moveBytes(t *testing.T, c *testenv.Client, target string, streams, size int) int64 {
	t.Helper()
	var wg sync.WaitGroup
	for range streams {
		data := randomBytes(t, size)
		wg.Go(func() {
			if err := echoRoundTrip(c, target, data); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	return int64(streams * size)
}

func TestUsageReportsAndSessionEvents(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	echo := testenv.EchoTarget(t)
	c := w.connect(t)
	moved := moveBytes(t, c, echo.Addr, 5, 100<<10)
	id := c.HelloOK.SessionID
	testkit.Eventually(t, 10*time.Second, "a periodic report with the totals", func() bool {
		reps := usageReports(t, w.nats, id)
		return len(reps) > 0 && reps[len(reps)-1].BytesUp == moved && reps[len(reps)-1].BytesDown == moved
	})
	moved += moveBytes(t, c, echo.Addr, 1, 10<<10)
	c.Close()
	ended := waitEnded(t, w.nats, id)
	final, ok := finalReport(t, w.nats, id)
	if !ok {
		t.Fatal("no final report")
	}
	if final.BytesUp != moved || final.BytesDown != moved || final.EndedAt == nil {
		t.Fatalf("final report = %+v, want %d bytes each way", final, moved)
	}
	reps := usageReports(t, w.nats, id)
	var sumUp, sumDown int64
	for i, r := range reps {
		if r.Seq != reps[0].Seq+uint64(i) || r.UserID != userID || r.DeviceID != deviceID || r.OutlineNodeID != w.node.NodeID {
			t.Fatalf("report %d = %+v", i, r)
		}
		sumUp, sumDown = sumUp+r.DeltaUp, sumDown+r.DeltaDown
	}
	if sumUp != moved || sumDown != moved {
		t.Fatalf("deltas add up to %d/%d, want %d", sumUp, sumDown, moved)
	}
	started, _ := sessionEvents(t, w.nats, id)
	if started == nil || started.UserID != userID || started.DeviceID != deviceID || started.OutlineNodeID != w.node.NodeID || started.Region != testenv.Region {
		t.Fatalf("started = %+v", started)
	}
	if ended.Reason != schemas.EndReasonClientClosed || ended.BytesUp != moved || ended.BytesDown != moved || ended.Seq != final.Seq {
		t.Fatalf("ended = %+v", ended)
	}
}

func TestNoUsageLostAcrossNATSRestart(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	echo := testenv.EchoTarget(t)
	c := w.connect(t, "binary")
	id := c.HelloOK.SessionID
	moved := moveBytes(t, c, echo.Addr, 3, 64<<10)
	testkit.Eventually(t, 10*time.Second, "a report before the outage", func() bool { return len(usageReports(t, w.nats, id)) > 0 })

	w.nats.Shutdown()
	moved += moveBytes(t, c, echo.Addr, 4, 128<<10)
	testkit.Eventually(t, 10*time.Second, "usage kept while NATS is down", func() bool {
		return testutilGauge(t, w, "httvps_gateway_usage_pending") >= 1
	})
	w.nats.Restart(t)
	moved += moveBytes(t, c, echo.Addr, 2, 32<<10)
	testkit.Eventually(t, 15*time.Second, "the outage's totals published", func() bool {
		reps := usageReports(t, w.nats, id)
		return len(reps) > 0 && reps[len(reps)-1].BytesUp == moved
	})
	c.Close()
	waitEnded(t, w.nats, id)
	final, ok := finalReport(t, w.nats, id)
	if !ok || final.BytesUp != moved || final.BytesDown != moved {
		t.Fatalf("final report = %+v (found %v), want %d bytes each way", final, ok, moved)
	}
}

func TestHeartbeatReportsLoad(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	echo := testenv.EchoTarget(t)
	c := w.connect(t)
	st := c.Open(echo.Addr)
	if err := st.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReadN(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "a heartbeat with one session and one stream", func() bool {
		msgs := streamMessages(t, w.nats, schemas.StreamHeartbeats)
		for _, m := range msgs {
			var hb schemas.GatewayHeartbeat
			if m.subject == schemas.GatewayHeartbeatSubject(testenv.GatewayID) && json.Unmarshal(m.data, &hb) == nil {
				return hb.Sessions == 1 && hb.Streams == 1 && hb.Status == schemas.GatewayStatusOnline && hb.Region == testenv.Region
			}
		}
		return false
	})
}
