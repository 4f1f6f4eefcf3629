// Package accounting counts the bytes of every session and gets usage reports, session events
// and heartbeats to JetStream without losing the latest totals while NATS is away.
package accounting

import (
	"sync"
	"sync/atomic"

	"github.com/httvps/httvps/services/gateway/internal/metrics"
)

// Totals are the bytes of the whole gateway, for heartbeats.
type Totals struct {
	Up, Down atomic.Int64
}

// Usage holds the cumulative counters of one session and the state of its reports.
type Usage struct {
	up, down atomic.Int64
	totals   *Totals
	m        *metrics.Metrics

	mu           sync.Mutex
	seq          uint64
	reportedUp   int64
	reportedDown int64
	final        bool
}

func NewUsage(totals *Totals, m *metrics.Metrics) *Usage {
	return &Usage{totals: totals, m: m}
}

func (u *Usage) AddUp(n int) {
	u.up.Add(int64(n))
	u.totals.Up.Add(int64(n))
	u.m.BytesUp.Add(float64(n))
}

func (u *Usage) AddDown(n int) {
	u.down.Add(int64(n))
	u.totals.Down.Add(int64(n))
	u.m.BytesDown.Add(float64(n))
}

func (u *Usage) Totals() (up, down int64) { return u.up.Load(), u.down.Load() }

// Step is the numbers of one report.
type Step struct {
	Seq                uint64
	Up, Down           int64
	DeltaUp, DeltaDown int64
	Final              bool
}

// Next takes the next report. A periodic one (final false) is skipped when nothing moved
// since the last report; nothing follows the final one.
func (u *Usage) Next(final bool) (Step, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.final {
		return Step{}, false
	}
	up, down := u.up.Load(), u.down.Load()
	if !final && up == u.reportedUp && down == u.reportedDown {
		return Step{}, false
	}
	u.seq++
	s := Step{Seq: u.seq, Up: up, Down: down, DeltaUp: up - u.reportedUp, DeltaDown: down - u.reportedDown, Final: final}
	u.reportedUp, u.reportedDown, u.final = up, down, final
	return s, true
}

// Seq is the number of the last report taken.
func (u *Usage) Seq() uint64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.seq
}
