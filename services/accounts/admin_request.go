package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// adminHandlers serves the commands schemas gives accounts, keyed by AdminCommand.Key.
func (s *Service) adminHandlers() map[string]rpc.AdminFunc {
	return map[string]rpc.AdminFunc{
		schemas.ResourceUsers + "." + schemas.VerbList:           s.listUsers,
		schemas.ResourceUsers + "." + schemas.VerbGet:            s.getUser,
		schemas.ResourceUsers + "." + schemas.VerbCreate:         s.createUser,
		schemas.ResourceUsers + "." + schemas.VerbSetStatus:      s.setUserStatus,
		schemas.ResourceUsers + "." + schemas.VerbLimits:         s.setUserLimits,
		schemas.ResourcePlans + "." + schemas.VerbList:           s.listPlans,
		schemas.ResourcePlans + "." + schemas.VerbGet:            s.getPlan,
		schemas.ResourcePlans + "." + schemas.VerbCreate:         s.createPlan,
		schemas.ResourcePlans + "." + schemas.VerbUpdate:         s.updatePlan,
		schemas.ResourceSubscriptions + "." + schemas.VerbUpdate: s.updateSubscription,
		schemas.ResourceSubscriptions + "." + schemas.VerbList:   s.listSubscriptions,
		schemas.ResourceSubscriptions + "." + schemas.VerbGet:    s.getSubscription,
		schemas.ResourceSubscriptions + "." + schemas.VerbCreate: s.createSubscription,
		schemas.ResourceSubscriptions + "." + schemas.VerbExtend: s.extendSubscription,
		schemas.ResourceSubscriptions + "." + schemas.VerbCancel: s.cancelSubscription,
		schemas.ResourceDevices + "." + schemas.VerbList:         s.listDevices,
		schemas.ResourceDevices + "." + schemas.VerbGet:          s.getDevice,
		schemas.ResourceDevices + "." + schemas.VerbCreate:       s.createDevice,
		schemas.ResourceDevices + "." + schemas.VerbRevoke:       s.revokeDevice,
		schemas.ResourceDevices + "." + schemas.VerbRotate:       s.rotateDevice,
	}
}

// target is an admin.Target with the column its key is stored in.
type target struct {
	admin.Target
	keyCol string
}

// clause is the WHERE condition naming the target; keyCol comes from this package, never from input.
func (t target) clause() (string, any) {
	if t.Key != "" {
		return t.keyCol + " = ?", t.Key
	}
	return "id = ?", t.ID
}

func targetOf(req schemas.AdminRequest, keyCol string) (target, error) {
	t, err := admin.TargetOf(req, keyCol)
	return target{t, keyCol}, err
}

// listByUser lists the rows of model, filtered by user_id and status, as devices and subscriptions take.
func (s *Service) listByUser(ctx context.Context, req schemas.AdminRequest, model any, statuses []string) (int64, error) {
	limit, offset, err := admin.Page(req)
	if err != nil {
		return 0, err
	}
	f, err := admin.Filters(req, "user_id", "status")
	if err != nil {
		return 0, err
	}
	q := s.db.NewSelect().Model(model)
	if v, ok := f["user_id"]; ok {
		id, err := admin.PositiveID("filter user_id", v)
		if err != nil {
			return 0, err
		}
		q = q.Where("user_id = ?", id)
	}
	if v, ok := f["status"]; ok {
		if err := admin.OneOf("filter status", v, statuses...); err != nil {
			return 0, err
		}
		q = q.Where("status = ?", v)
	}
	return s.list(ctx, q, limit, offset)
}

func (s *Service) list(ctx context.Context, q *bun.SelectQuery, limit, offset int) (int64, error) {
	n, err := q.Order("id ASC").Limit(limit).Offset(offset).ScanAndCount(ctx)
	if err != nil {
		return 0, s.dbErr(err, "list")
	}
	return int64(n), nil
}

func (s *Service) getOne(ctx context.Context, q *bun.SelectQuery, what string, t target) error {
	if err := q.Limit(1).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return admin.NotFound("%s %s not found", what, t)
		}
		return s.dbErr(err, "get "+what)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == "23505"
}

func (s *Service) dbErr(err error, what string) error {
	if _, ok := rpc.AsRPCError(err); ok {
		return err
	}
	s.m.dbErrors.WithLabelValues(opAdmin).Inc()
	return fmt.Errorf("%s: %w", what, err)
}
