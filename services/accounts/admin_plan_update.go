package accounts

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
	"github.com/uptrace/bun"
)

// planPatch names the fields to change: a missing field stays, null clears a field that may be
// null, a value sets it.
type planPatch struct {
	Name           json.RawMessage `json:"name"`
	MaxDevices     json.RawMessage `json:"max_devices"`
	TrafficLimitGB json.RawMessage `json:"traffic_limit_gb"`
	MaxSessions    json.RawMessage `json:"max_sessions"`
	SpeedLimitMbps json.RawMessage `json:"speed_limit_mbps"`
	Price          json.RawMessage `json:"price"`
	Currency       json.RawMessage `json:"currency"`
}

// updatePlan changes a plan; the live sessions on it take the new limits within a second.
func (s *Service) updatePlan(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := targetOf(req, "name")
	if err != nil {
		return nil, 0, err
	}
	var patch planPatch
	if err := admin.DecodeBody(req.Body, &patch); err != nil {
		return nil, 0, err
	}
	var p Plan
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		cond, arg := t.clause()
		err := tx.NewSelect().Model(&p).Where(cond, arg).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return admin.NotFound("plan %s not found", t)
		}
		if err != nil {
			return err
		}
		b := createPlanBody{Name: p.Name, MaxDevices: p.MaxDevices, TrafficLimitGB: p.TrafficLimitGB,
			MaxSessions: p.MaxSessions, SpeedLimitMbps: p.SpeedLimitMbps, Price: p.Price, Currency: p.Currency}
		if err := patch.apply(&b); err != nil {
			return err
		}
		if err := b.check(); err != nil {
			return err
		}
		id := p.ID
		p = Plan{}
		return tx.NewUpdate().Model(&p).
			Set("name = ?", b.Name).
			Set("max_devices = ?", b.MaxDevices).
			Set("traffic_limit_gb = ?", b.TrafficLimitGB).
			Set("max_sessions = ?", b.MaxSessions).
			Set("speed_limit_mbps = ?", b.SpeedLimitMbps).
			Set("price = ?", b.Price).
			Set("currency = ?", b.Currency).
			Set("updated_at = now()").
			Where("id = ?", id).Returning("*").Scan(ctx)
	})
	if err != nil {
		if isUniqueViolation(err) {
			return nil, 0, admin.Conflict("plan name already exists")
		}
		return nil, 0, s.dbErr(err, "update plan")
	}
	s.events.refreshPlan(p.ID, "plan changed by admin")
	return p, 0, nil
}

func (pp planPatch) apply(b *createPlanBody) error {
	if len(pp.Name)+len(pp.MaxDevices)+len(pp.TrafficLimitGB)+len(pp.MaxSessions)+len(pp.SpeedLimitMbps)+len(pp.Price)+len(pp.Currency) == 0 {
		return admin.Invalid("body: name at least one field to change (name, max_devices, traffic_limit_gb, max_sessions, speed_limit_mbps, price, currency)")
	}
	for _, err := range []error{
		patchValue("name", pp.Name, &b.Name),
		patchValue("max_devices", pp.MaxDevices, &b.MaxDevices),
		patchNullable("traffic_limit_gb", pp.TrafficLimitGB, &b.TrafficLimitGB),
		patchNullable("max_sessions", pp.MaxSessions, &b.MaxSessions),
		patchNullable("speed_limit_mbps", pp.SpeedLimitMbps, &b.SpeedLimitMbps),
		patchNullable("price", pp.Price, &b.Price),
		patchNullable("currency", pp.Currency, &b.Currency),
	} {
		if err != nil {
			return err
		}
	}
	if len(pp.Price) > 0 && bytes.Equal(bytes.TrimSpace(pp.Price), []byte("null")) && len(pp.Currency) == 0 {
		b.Currency = nil
	}
	return nil
}

// patchValue sets *dst from raw unless raw is missing; null is refused.
func patchValue[T any](name string, raw json.RawMessage, dst *T) error {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return nil
	case bytes.Equal(raw, []byte("null")):
		return admin.Invalid("%s: cannot be null", name)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return admin.Invalid("%s: %v", name, err)
	}
	return nil
}

// patchNullable sets *dst from raw unless raw is missing; null clears it.
func patchNullable[T any](name string, raw json.RawMessage, dst **T) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	*dst = nil
	return field(name, raw, dst)
}
