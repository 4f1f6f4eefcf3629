package usageaggregator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
	"github.com/httvps/httvps/shared/logging"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/uptrace/bun"
)

const (
	defaultResetReason = "usage reset by admin"
	maxResetReason     = 256
)

type resetBody struct {
	Reason string `json:"reason"`
}

// usageResetObject answers a reset: what the month held before it, now kept in usage_resets.
type usageResetObject struct {
	UserID      int64     `json:"user_id"`
	PeriodStart string    `json:"period_start"`
	BytesUp     int64     `json:"bytes_up"`
	BytesDown   int64     `json:"bytes_down"`
	TotalBytes  int64     `json:"total_bytes"`
	Reason      string    `json:"reason"`
	ResetAt     time.Time `json:"reset_at"`
}

const takePeriodSQL = `
SELECT bytes_up, bytes_down FROM usage_periods WHERE user_id = ? AND period_start = ?::date FOR UPDATE`

const zeroPeriodSQL = `
UPDATE usage_periods SET bytes_up = 0, bytes_down = 0, updated_at = now() WHERE user_id = ? AND period_start = ?::date`

const insertResetSQL = `
INSERT INTO usage_resets (user_id, period_start, bytes_up, bytes_down, reason) VALUES (?, ?::date, ?, ?, ?)
RETURNING reset_at`

const forgetLimitEventSQL = `DELETE FROM usage_limit_events WHERE user_id = ? AND period_start = ?::date`

// resetUsage zeroes the user's current month: its bytes move to usage_resets, the month may cross
// the limit (and notify) again, and live sessions get new leases within a second.
func (s *Service) resetUsage(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	if req.ID <= 0 {
		return nil, 0, admin.Invalid("id: the user id is required")
	}
	reason, err := resetReason(req)
	if err != nil {
		return nil, 0, err
	}
	period := periodStart(time.Now()).Format(dateLayout)
	out := usageResetObject{UserID: req.ID, PeriodStart: period, Reason: reason}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, lockUserSQL, req.ID).Scan(&id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return admin.NotFound("user %d not found", req.ID)
			}
			return fmt.Errorf("lock user: %w", err)
		}
		err := tx.QueryRowContext(ctx, takePeriodSQL, req.ID, period).Scan(&out.BytesUp, &out.BytesDown)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read period: %w", err)
		}
		if err := tx.QueryRowContext(ctx, insertResetSQL, req.ID, period, out.BytesUp, out.BytesDown, reason).Scan(&out.ResetAt); err != nil {
			return fmt.Errorf("record reset: %w", err)
		}
		for _, q := range []string{zeroPeriodSQL, forgetLimitEventSQL} {
			if _, err := tx.ExecContext(ctx, q, req.ID, period); err != nil {
				return fmt.Errorf("reset period: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		if _, ok := rpc.AsRPCError(err); ok {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("reset usage of user %d: %w", req.ID, err)
	}
	out.TotalBytes = out.BytesUp + out.BytesDown
	out.ResetAt = out.ResetAt.UTC()
	s.refreshUser(req.ID, reason)
	return out, 0, nil
}

func resetReason(req schemas.AdminRequest) (string, error) {
	if len(req.Body) == 0 || string(req.Body) == "null" {
		return defaultResetReason, nil
	}
	var b resetBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return "", err
	}
	b.Reason = strings.TrimSpace(b.Reason)
	switch {
	case b.Reason == "":
		return defaultResetReason, nil
	case len(b.Reason) > maxResetReason:
		return "", admin.Invalid("reason: at most %d characters", maxResetReason)
	}
	return b.Reason, nil
}

// refreshUser tells the gateways that the user's live sessions may move more; one not told gets
// its new lease at its next request.
func (s *Service) refreshUser(userID int64, reason string) {
	ev := schemas.ControlEvent{Scope: schemas.ScopeUser, ID: strconv.FormatInt(userID, 10), What: schemas.ControlRefresh, Reason: reason, IssuedAt: time.Now().UTC()}
	if _, err := natsx.PublishControl(context.Background(), s.js, ev, s.cfg.RequestTimeout); err != nil {
		s.m.publishErrors.WithLabelValues(publishRefresh).Inc()
		s.log.Error().Err(err).Int64(logging.FieldUser, userID).Msg("publish refresh event")
	}
}
