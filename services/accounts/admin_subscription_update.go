package accounts

import (
	"context"
	"database/sql"
	"errors"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
	"github.com/uptrace/bun"
)

type updateSubscriptionBody struct {
	PlanID int64 `json:"plan_id"`
}

// updateSubscription moves a subscription to another plan; the user's live sessions take the new
// plan's limits within a second.
func (s *Service) updateSubscription(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := targetOf(req, "")
	if err != nil {
		return nil, 0, err
	}
	var b updateSubscriptionBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return nil, 0, err
	}
	if b.PlanID <= 0 {
		return nil, 0, admin.Invalid("plan_id: required, a positive number")
	}
	var sub Subscription
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewSelect().Model(&sub).Where("id = ?", t.ID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return admin.NotFound("subscription %s not found", t)
		}
		if err != nil {
			return err
		}
		if sub.Status == statusCancelled {
			return admin.Conflict("subscription %d is cancelled; create a new one", sub.ID)
		}
		exists, err := tx.NewSelect().Model((*Plan)(nil)).Where("id = ?", b.PlanID).Exists(ctx)
		if err != nil {
			return err
		}
		if !exists {
			return admin.NotFound("plan %d not found", b.PlanID)
		}
		return tx.NewUpdate().Model(&sub).Set("plan_id = ?", b.PlanID).Set("updated_at = now()").
			Where("id = ?", sub.ID).Returning("*").Scan(ctx)
	})
	if err != nil {
		return nil, 0, s.dbErr(err, "update subscription")
	}
	s.events.refreshUser(sub.UserID, "subscription moved to another plan by admin")
	return sub, 0, nil
}
