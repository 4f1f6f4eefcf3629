package accounts

import (
	"context"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/logging"
)

const sweepBatch = 500

type expiredRow struct {
	ID         int64     `bun:"id"`
	UserID     int64     `bun:"user_id"`
	ValidUntil time.Time `bun:"valid_until"`
	Covered    bool      `bun:"covered"`
}

func (s *Service) runSweeper(ctx context.Context) {
	t := time.NewTicker(s.cfg.ExpiryInterval)
	defer t.Stop()
	for {
		if _, err := s.sweepExpired(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("expire subscriptions")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepExpired marks due subscriptions expired. Rows locked by another process are
// skipped and a row already expired no longer matches, so each row is reported once.
func (s *Service) sweepExpired(ctx context.Context) (int, error) {
	total := 0
	for {
		var rows []expiredRow
		err := s.db.NewRaw(`WITH due AS (
				SELECT id FROM subscriptions
				WHERE status = 'active' AND valid_until <= now()
				ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED
			), expired AS (
				UPDATE subscriptions AS s SET status = 'expired', updated_at = now()
				FROM due WHERE s.id = due.id
				RETURNING s.id, s.user_id, s.valid_until
			)
			SELECT e.id, e.user_id, e.valid_until, EXISTS (
				SELECT 1 FROM subscriptions o
				WHERE o.user_id = e.user_id AND o.status = 'active' AND o.valid_until > now()
			) AS covered
			FROM expired AS e ORDER BY e.id`, sweepBatch).Scan(ctx, &rows)
		if err != nil {
			s.m.dbErrors.WithLabelValues(opSweep).Inc()
			return total, fmt.Errorf("expire subscriptions: %w", err)
		}
		total += len(rows)
		s.m.expired.Add(float64(len(rows)))
		kicked := map[int64]bool{}
		for _, r := range rows {
			s.log.Info().Int64("subscription_id", r.ID).Int64(logging.FieldUser, r.UserID).Msg("subscription expired")
			if r.Covered || kicked[r.UserID] {
				continue
			}
			kicked[r.UserID] = true
			s.events.kickUser(r.UserID, schemas.CodeSubscriptionExpired,
				fmt.Sprintf("subscription %d expired at %s", r.ID, r.ValidUntil.UTC().Format(time.RFC3339)))
		}
		if len(rows) < sweepBatch {
			return total, nil
		}
	}
}
