package accounts

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/httvps/httvps/shared/logging"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// lastSeen coalesces device last_seen_at writes: validations only touch a map,
// a background loop writes one UPDATE per batch.
type lastSeen struct {
	db    *bun.DB
	log   zerolog.Logger
	m     *metrics
	batch int
	kick  chan struct{}

	mu      sync.Mutex
	pending map[int64]time.Time
}

func newLastSeen(db *bun.DB, log zerolog.Logger, m *metrics, batch int) *lastSeen {
	return &lastSeen{db: db, log: log, m: m, batch: batch, kick: make(chan struct{}, 1), pending: map[int64]time.Time{}}
}

func (l *lastSeen) touch(deviceID int64, at time.Time) {
	l.mu.Lock()
	if prev, ok := l.pending[deviceID]; !ok || at.After(prev) {
		l.pending[deviceID] = at
	}
	n := len(l.pending)
	l.mu.Unlock()
	l.m.lastSeenQueue.Set(float64(n))
	if n >= l.batch {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

func (l *lastSeen) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.kick:
		}
		if err := l.flush(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn().Err(err).Msg("flush last_seen_at")
		}
	}
}

func (l *lastSeen) flush(ctx context.Context) error {
	l.mu.Lock()
	batch := l.pending
	l.pending = make(map[int64]time.Time, len(batch))
	l.mu.Unlock()
	l.m.lastSeenQueue.Set(0)
	if len(batch) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(batch))
	for id := range batch {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	seen := make([]time.Time, len(ids))
	for i, id := range ids {
		seen[i] = batch[id].UTC()
	}
	_, err := l.db.NewRaw(`UPDATE devices AS d SET last_seen_at = v.seen_at
		FROM unnest(?::bigint[], ?::timestamptz[]) AS v(id, seen_at)
		WHERE d.id = v.id AND (d.last_seen_at IS NULL OR d.last_seen_at < v.seen_at)`,
		pgdialect.Array(ids), pgdialect.Array(seen)).Exec(ctx)
	if err != nil {
		l.m.dbErrors.WithLabelValues(opLastSeen).Inc()
		l.restore(batch)
		return fmt.Errorf("update last_seen_at of %d devices: %w", len(ids), err)
	}
	l.m.lastSeenRows.Add(float64(len(ids)))
	l.log.Debug().Int(logging.FieldCount, len(ids)).Msg("last_seen_at flushed")
	return nil
}

func (l *lastSeen) restore(batch map[int64]time.Time) {
	l.mu.Lock()
	for id, at := range batch {
		if cur, ok := l.pending[id]; !ok || at.After(cur) {
			l.pending[id] = at
		}
	}
	n := len(l.pending)
	l.mu.Unlock()
	l.m.lastSeenQueue.Set(float64(n))
}
