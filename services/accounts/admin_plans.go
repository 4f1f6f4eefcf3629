package accounts

import (
	"context"
	"regexp"
	"strings"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
)

const (
	maxPlanName   = 128
	maxPlanDevice = 1000
	maxSpeedMbps  = 1000000
)

var (
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	pricePattern    = regexp.MustCompile(`^[0-9]{1,10}(\.[0-9]{1,2})?$`)
)

type createPlanBody struct {
	Name           string   `json:"name"`
	MaxDevices     int      `json:"max_devices"`
	TrafficLimitGB *Decimal `json:"traffic_limit_gb"`
	MaxSessions    *int     `json:"max_sessions"`
	SpeedLimitMbps *int     `json:"speed_limit_mbps"`
	Price          *Decimal `json:"price"`
	Currency       *string  `json:"currency"`
}

func (s *Service) listPlans(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	limit, offset, err := admin.Page(req)
	if err != nil {
		return nil, 0, err
	}
	f, err := admin.Filters(req, "name")
	if err != nil {
		return nil, 0, err
	}
	plans := []Plan{}
	q := s.db.NewSelect().Model(&plans)
	if v, ok := f["name"]; ok {
		q = q.Where("name = ?", v)
	}
	total, err := s.list(ctx, q, limit, offset)
	return plans, total, err
}

func (s *Service) getPlan(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := targetOf(req, "name")
	if err != nil {
		return nil, 0, err
	}
	var p Plan
	cond, arg := t.clause()
	if err := s.getOne(ctx, s.db.NewSelect().Model(&p).Where(cond, arg), "plan", t); err != nil {
		return nil, 0, err
	}
	return p, 0, nil
}

func (s *Service) createPlan(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	var b createPlanBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return nil, 0, err
	}
	if err := b.check(); err != nil {
		return nil, 0, err
	}
	p := b.plan()
	if _, err := s.db.NewInsert().Model(&p).Returning("*").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return nil, 0, admin.Conflict("plan name %q already exists", b.Name)
		}
		return nil, 0, s.dbErr(err, "create plan")
	}
	return p, 0, nil
}

// check validates a plan's fields, for a new plan and for a plan after an update.
func (b *createPlanBody) check() error {
	b.Name = strings.TrimSpace(b.Name)
	switch {
	case b.Name == "":
		return admin.Invalid("name: required")
	case len(b.Name) > maxPlanName:
		return admin.Invalid("name: at most %d characters", maxPlanName)
	case b.MaxDevices < 1 || b.MaxDevices > maxPlanDevice:
		return admin.Invalid("max_devices: required, 1 to %d", maxPlanDevice)
	case b.TrafficLimitGB != nil && b.TrafficLimitGB.isZero():
		return admin.Invalid("traffic_limit_gb: must be above 0; leave it out (or null) for unlimited traffic")
	case b.MaxSessions != nil && (*b.MaxSessions < 1 || *b.MaxSessions > maxPlanDevice):
		return admin.Invalid("max_sessions: 1 to %d; leave it out (or null) to allow max_devices sessions", maxPlanDevice)
	case b.SpeedLimitMbps != nil && (*b.SpeedLimitMbps < 1 || *b.SpeedLimitMbps > maxSpeedMbps):
		return admin.Invalid("speed_limit_mbps: 1 to %d; leave it out (or null) for no speed limit", maxSpeedMbps)
	case b.Price != nil && !pricePattern.MatchString(string(*b.Price)):
		return admin.Invalid("price: at most 10 digits before the point and 2 after, got %s", *b.Price)
	case b.Currency != nil && !currencyPattern.MatchString(*b.Currency):
		return admin.Invalid("currency: must be a three-letter ISO 4217 code such as EUR")
	case b.Currency != nil && b.Price == nil:
		return admin.Invalid("currency: only with a price")
	}
	return nil
}

func (b createPlanBody) plan() Plan {
	return Plan{Name: b.Name, MaxDevices: b.MaxDevices, TrafficLimitGB: b.TrafficLimitGB,
		MaxSessions: b.MaxSessions, SpeedLimitMbps: b.SpeedLimitMbps, Price: b.Price, Currency: b.Currency}
}
