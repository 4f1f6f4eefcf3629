package session

import (
	"sync/atomic"
	"time"
)

const rttSmoothingBits = 3

// rttMeter is the smoothed round trip of the session's pings, which window tuning needs.
type rttMeter struct {
	id     atomic.Uint64
	sentAt atomic.Int64
	srtt   atomic.Int64
}

func (m *rttMeter) ping(id uint64, now time.Time) {
	m.sentAt.Store(now.UnixNano())
	m.id.Store(id)
}

func (m *rttMeter) pong(id uint64, now time.Time) {
	if id == 0 || id != m.id.Load() {
		return
	}
	sample := now.UnixNano() - m.sentAt.Load()
	if sample <= 0 {
		return
	}
	old := m.srtt.Load()
	if old == 0 {
		m.srtt.Store(sample)
		return
	}
	m.srtt.Store(old + (sample-old)>>rttSmoothingBits)
}

func (m *rttMeter) get() time.Duration { return time.Duration(m.srtt.Load()) }
