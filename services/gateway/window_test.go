package gateway_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
)

// The gateway grows the windows of streams that use them fast, each up to the stream maximum
// and all of a session's live streams together within the session's budget.
func TestUploadWindowsGrowWithinTheirBounds(t *testing.T) {
	const (
		initial = 64 << 10
		maxWin  = 512 << 10
		budget  = 768 << 10
		streams = 4
	)
	w := newWorld(t, outlineNode, func(c *gateway.Config) {
		c.StreamWindow, c.MaxStreamWindow, c.SessionWindow = initial, maxWin, budget
	})
	digest := testenv.DigestTarget(t)
	c := w.connect(t, "binary", "flow_control")
	data := bytes.Repeat([]byte("window tuning "), (8<<20)/14)
	open := make([]*testenv.Stream, streams)
	var wg sync.WaitGroup
	for i := range open {
		open[i] = c.Open(digest.Addr)
		wg.Go(func() {
			if err := open[i].Write(data); err != nil {
				t.Errorf("stream %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	grown, peak := 0, 0
	for i, st := range open {
		now, most := st.Credit()
		if most > maxWin {
			t.Fatalf("stream %d held %d of credit, beyond its maximum window of %d", i, most, maxWin)
		}
		grown += max(0, now-initial)
		peak = max(peak, most)
	}
	if grown > budget {
		t.Fatalf("the live streams' windows grew by %d in all, beyond the session's %d", grown, budget)
	}
	if peak <= initial {
		t.Fatalf("no window grew although every stream used its window at loopback speed (largest %d)", peak)
	}
	for i, st := range open {
		if err := st.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		got, code, err := st.ReadToClose(streamTimeout)
		if err != nil || code != "" || string(got) != testenv.Digest(data) {
			t.Fatalf("stream %d: digest %q code %q %v", i, got, code, err)
		}
	}
}
