package accounts

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
)

// userLimitsBody names every override: a number sets it, null clears it, a missing field is an error
// (so a typo never silently clears a limit).
type userLimitsBody struct {
	TrafficLimitGB json.RawMessage `json:"traffic_limit_gb"`
	SpeedLimitMbps json.RawMessage `json:"speed_limit_mbps"`
	MaxSessions    json.RawMessage `json:"max_sessions"`
}

func (s *Service) setUserLimits(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := targetOf(req, "identifier")
	if err != nil {
		return nil, 0, err
	}
	var b userLimitsBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return nil, 0, err
	}
	limits, err := b.limits()
	if err != nil {
		return nil, 0, err
	}
	var u User
	cond, arg := t.clause()
	err = s.db.NewUpdate().Model(&u).
		Set("traffic_limit_gb = ?", limits.TrafficLimitGB).
		Set("speed_limit_mbps = ?", limits.SpeedLimitMbps).
		Set("max_sessions = ?", limits.MaxSessions).
		Set("updated_at = now()").
		Where(cond, arg).Returning("*").Scan(ctx)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, 0, admin.NotFound("user %s not found", t)
		}
		return nil, 0, s.dbErr(err, "set user limits")
	}
	s.events.refreshUser(u.ID, "limits changed by admin")
	return u, 0, nil
}

func (b userLimitsBody) limits() (UserLimits, error) {
	var l UserLimits
	if err := field("traffic_limit_gb", b.TrafficLimitGB, &l.TrafficLimitGB); err != nil {
		return l, err
	}
	if l.TrafficLimitGB != nil && l.TrafficLimitGB.isZero() {
		return l, admin.Invalid("traffic_limit_gb: must be above 0; null uses the plan's limit")
	}
	if err := field("speed_limit_mbps", b.SpeedLimitMbps, &l.SpeedLimitMbps); err != nil {
		return l, err
	}
	if v := l.SpeedLimitMbps; v != nil && (*v < 1 || *v > maxSpeedMbps) {
		return l, admin.Invalid("speed_limit_mbps: 1 to %d; null uses the plan's limit", maxSpeedMbps)
	}
	if err := field("max_sessions", b.MaxSessions, &l.MaxSessions); err != nil {
		return l, err
	}
	if v := l.MaxSessions; v != nil && (*v < 1 || *v > maxPlanDevice) {
		return l, admin.Invalid("max_sessions: 1 to %d; null uses the plan's limit", maxPlanDevice)
	}
	return l, nil
}

// field decodes raw into *dst; JSON null leaves it nil.
func field[T any](name string, raw json.RawMessage, dst **T) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return admin.Invalid("%s: required (a number, or null to use the plan's value)", name)
	}
	if bytes.Equal(raw, []byte("null")) {
		return nil
	}
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return admin.Invalid("%s: %v", name, err)
	}
	*dst = v
	return nil
}
