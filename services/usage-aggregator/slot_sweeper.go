package usageaggregator

import (
	"context"
	"time"
)

// runSlotPurge deletes expired slots and leases: they no longer count, the rows only take room.
func (s *Service) runSlotPurge(ctx context.Context) error {
	t := time.NewTicker(max(s.cfg.SlotTTL, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for ctx.Err() == nil {
			res, err := s.db.ExecContext(ctx, purgeSlotsSQL, s.cfg.SweepBatch)
			if err != nil {
				s.m.dbErrors.WithLabelValues(opSlots).Inc()
				s.log.Error().Err(err).Msg("purge expired slots")
				break
			}
			n, _ := res.RowsAffected()
			s.slotMetrics.purged.Add(float64(n))
			if n < int64(s.cfg.SweepBatch) {
				break
			}
		}
	}
}
