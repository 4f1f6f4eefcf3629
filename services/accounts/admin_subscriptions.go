package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
	"github.com/uptrace/bun"
)

const maxSubscriptionDays = 36500

var subscriptionStatuses = []string{statusActive, statusExpired, statusCancelled}

type createSubscriptionBody struct {
	UserID     int64      `json:"user_id"`
	PlanID     int64      `json:"plan_id"`
	ValidUntil *time.Time `json:"valid_until"`
	Days       *int       `json:"days"`
}

type extendBody struct {
	ValidUntil *time.Time `json:"valid_until"`
	Days       *int       `json:"days"`
}

type reasonBody struct {
	Reason string `json:"reason"`
}

func (s *Service) listSubscriptions(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	subs := []Subscription{}
	total, err := s.listByUser(ctx, req, &subs, subscriptionStatuses)
	return subs, total, err
}

func (s *Service) getSubscription(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := targetOf(req, "")
	if err != nil {
		return nil, 0, err
	}
	var sub Subscription
	cond, arg := t.clause()
	if err := s.getOne(ctx, s.db.NewSelect().Model(&sub).Where(cond, arg), "subscription", t); err != nil {
		return nil, 0, err
	}
	return sub, 0, nil
}

func (s *Service) createSubscription(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	var b createSubscriptionBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return nil, 0, err
	}
	switch {
	case b.UserID <= 0:
		return nil, 0, admin.Invalid("user_id: required, a positive number")
	case b.PlanID <= 0:
		return nil, 0, admin.Invalid("plan_id: required, a positive number")
	}
	validUntil, err := untilOf(b.ValidUntil, b.Days, time.Now())
	if err != nil {
		return nil, 0, err
	}
	sub := Subscription{UserID: b.UserID, PlanID: b.PlanID, ValidUntil: validUntil, Status: statusActive}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockUser(ctx, tx, b.UserID); err != nil {
			return err
		}
		exists, err := tx.NewSelect().Model((*Plan)(nil)).Where("id = ?", b.PlanID).Exists(ctx)
		if err != nil {
			return err
		}
		if !exists {
			return admin.NotFound("plan %d not found", b.PlanID)
		}
		if err := noOtherCurrent(ctx, tx, b.UserID, 0); err != nil {
			return err
		}
		_, err = tx.NewInsert().Model(&sub).Returning("*").Exec(ctx)
		return err
	})
	if err != nil {
		return nil, 0, s.dbErr(err, "create subscription")
	}
	return sub, 0, nil
}

func (s *Service) extendSubscription(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := targetOf(req, "")
	if err != nil {
		return nil, 0, err
	}
	var b extendBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return nil, 0, err
	}
	if _, err := untilOf(b.ValidUntil, b.Days, time.Now()); err != nil {
		return nil, 0, err
	}
	var sub Subscription
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var userID int64
		err := tx.NewSelect().Model((*Subscription)(nil)).Column("user_id").Where("id = ?", t.ID).Scan(ctx, &userID)
		if errors.Is(err, sql.ErrNoRows) {
			return admin.NotFound("subscription %s not found", t)
		}
		if err != nil {
			return err
		}
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if err := tx.NewSelect().Model(&sub).Where("id = ?", t.ID).For("UPDATE").Scan(ctx); err != nil {
			return err
		}
		if sub.Status == statusCancelled {
			return admin.Conflict("subscription %d is cancelled; create a new one", sub.ID)
		}
		now := time.Now()
		base := now
		if sub.ValidUntil.After(now) {
			base = sub.ValidUntil
		}
		until, err := untilOf(b.ValidUntil, b.Days, base)
		if err != nil {
			return err
		}
		if sub.Status != statusActive {
			if err := noOtherCurrent(ctx, tx, sub.UserID, sub.ID); err != nil {
				return err
			}
		}
		return tx.NewUpdate().Model(&sub).Set("valid_until = ?", until).Set("status = ?", statusActive).
			Set("updated_at = now()").Where("id = ?", sub.ID).Returning("*").Scan(ctx)
	})
	if err != nil {
		return nil, 0, s.dbErr(err, "extend subscription")
	}
	return sub, 0, nil
}

func (s *Service) cancelSubscription(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := targetOf(req, "")
	if err != nil {
		return nil, 0, err
	}
	reason, err := optionalReason(req, "subscription cancelled by admin")
	if err != nil {
		return nil, 0, err
	}
	var sub Subscription
	err = s.db.NewUpdate().Model(&sub).Set("status = ?", statusCancelled).Set("updated_at = now()").
		Where("id = ?", t.ID).Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, admin.NotFound("subscription %s not found", t)
	}
	if err != nil {
		return nil, 0, s.dbErr(err, "cancel subscription")
	}
	covered, err := hasCurrent(ctx, s.db, sub.UserID, sub.ID)
	if err != nil {
		return nil, 0, s.dbErr(err, "cancel subscription")
	}
	if covered {
		s.events.refreshUser(sub.UserID, "subscription cancelled; another one covers the user")
	} else {
		s.events.kickUser(sub.UserID, schemas.CodeNoSubscription, reason)
	}
	return sub, 0, nil
}

// untilOf turns exactly one of valid_until or days (counted from base) into a future time.
func untilOf(validUntil *time.Time, days *int, base time.Time) (time.Time, error) {
	switch {
	case validUntil == nil && days == nil:
		return time.Time{}, admin.Invalid("valid_until or days: required")
	case validUntil != nil && days != nil:
		return time.Time{}, admin.Invalid("valid_until and days: give one, not both")
	case days != nil && (*days < 1 || *days > maxSubscriptionDays):
		return time.Time{}, admin.Invalid("days: must be 1 to %d", maxSubscriptionDays)
	case days != nil:
		return base.AddDate(0, 0, *days).UTC(), nil
	case !validUntil.After(time.Now()):
		return time.Time{}, admin.Invalid("valid_until: must be in the future, got %s", validUntil.UTC().Format(time.RFC3339))
	}
	return validUntil.UTC(), nil
}

func optionalReason(req schemas.AdminRequest, def string) (string, error) {
	if len(req.Body) == 0 || string(req.Body) == "null" {
		return def, nil
	}
	var b reasonBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return "", err
	}
	if b.Reason == "" {
		return def, nil
	}
	if len(b.Reason) > 256 {
		return "", admin.Invalid("reason: at most 256 characters")
	}
	return b.Reason, nil
}

func lockUser(ctx context.Context, tx bun.Tx, userID int64) error {
	var id int64
	err := tx.NewSelect().Model((*User)(nil)).Column("id").Where("id = ?", userID).For("UPDATE").Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return admin.NotFound("user %d not found", userID)
	}
	return err
}

func hasCurrent(ctx context.Context, db bun.IDB, userID, exceptID int64) (bool, error) {
	return db.NewSelect().Model((*Subscription)(nil)).
		Where("user_id = ? AND id <> ? AND status = ? AND valid_until > now()", userID, exceptID, statusActive).Exists(ctx)
}

// noOtherCurrent keeps one current subscription per user, so validation and the
// device limit always know which plan applies.
func noOtherCurrent(ctx context.Context, db bun.IDB, userID, exceptID int64) error {
	var other Subscription
	err := db.NewSelect().Model(&other).
		Where("user_id = ? AND id <> ? AND status = ? AND valid_until > now()", userID, exceptID, statusActive).
		Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find current subscription: %w", err)
	}
	return admin.Conflict("user %d already has active subscription %d valid until %s; extend it instead",
		userID, other.ID, other.ValidUntil.UTC().Format(time.RFC3339))
}
