package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// validateQuery reads everything validate-device decides on in one round trip.
const validateQuery = `SELECT d.id, d.user_id, coalesce(d.platform, ''), d.status, d.token_version, u.status,
	s.id, s.plan_id, s.valid_until, s.status, s.valid_until > now(),
	p.name, p.max_devices, floor(coalesce(u.traffic_limit_gb, p.traffic_limit_gb) * 1000000000)::bigint,
	coalesce(u.max_sessions, p.max_sessions, p.max_devices), coalesce(u.speed_limit_mbps, p.speed_limit_mbps),
	ad.active, ad.rank,
	coalesce((SELECT up.bytes_up + up.bytes_down FROM usage_periods AS up
		WHERE up.user_id = d.user_id
		AND up.period_start = date_trunc('month', now() AT TIME ZONE 'UTC')::date), 0),
	EXISTS (SELECT 1 FROM regions AS r WHERE r.code = $2)
FROM devices AS d
JOIN users AS u ON u.id = d.user_id
LEFT JOIN LATERAL (
	SELECT id, plan_id, valid_until, status FROM subscriptions
	WHERE user_id = d.user_id
	ORDER BY (status = 'active' AND valid_until > now()) DESC, valid_until DESC, id DESC
	LIMIT 1
) AS s ON true
LEFT JOIN plans AS p ON p.id = s.plan_id
CROSS JOIN LATERAL (
	SELECT count(*) AS active, count(*) FILTER (WHERE a.id <= d.id) AS rank
	FROM devices AS a WHERE a.user_id = d.user_id AND a.status = 'active'
) AS ad
WHERE d.device_uuid = $1`

type deviceState struct {
	DeviceID      int64
	UserID        int64
	Platform      string
	DeviceStatus  string
	TokenVersion  int
	UserStatus    string
	SubID         sql.NullInt64
	PlanID        sql.NullInt64
	ValidUntil    sql.NullTime
	SubStatus     sql.NullString
	SubCurrent    sql.NullBool
	PlanName      sql.NullString
	MaxDevices    sql.NullInt64
	TrafficLimit  sql.NullInt64
	MaxSessions   sql.NullInt64
	SpeedLimit    sql.NullInt64
	ActiveDevices int64
	Rank          int64
	UsedBytes     int64
	RegionKnown   bool
}

var errDeviceNotFound = errors.New("device not found")

// stateReader keeps validateQuery prepared: the plan is cached per connection.
type stateReader struct {
	db   *sql.DB
	mu   sync.Mutex
	stmt *sql.Stmt
}

func (r *stateReader) prepared(ctx context.Context) (*sql.Stmt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stmt != nil {
		return r.stmt, nil
	}
	stmt, err := r.db.PrepareContext(ctx, validateQuery)
	if err != nil {
		return nil, fmt.Errorf("prepare validate query: %w", err)
	}
	r.stmt = stmt
	return stmt, nil
}

func (r *stateReader) read(ctx context.Context, deviceUUID, region string) (deviceState, error) {
	var st deviceState
	stmt, err := r.prepared(ctx)
	if err != nil {
		return st, err
	}
	err = stmt.QueryRowContext(ctx, deviceUUID, region).Scan(
		&st.DeviceID, &st.UserID, &st.Platform, &st.DeviceStatus, &st.TokenVersion, &st.UserStatus,
		&st.SubID, &st.PlanID, &st.ValidUntil, &st.SubStatus, &st.SubCurrent,
		&st.PlanName, &st.MaxDevices, &st.TrafficLimit, &st.MaxSessions, &st.SpeedLimit,
		&st.ActiveDevices, &st.Rank, &st.UsedBytes, &st.RegionKnown)
	if errors.Is(err, sql.ErrNoRows) {
		return st, errDeviceNotFound
	}
	if err != nil {
		return st, fmt.Errorf("read device state: %w", err)
	}
	return st, nil
}

func (r *stateReader) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stmt != nil {
		_ = r.stmt.Close()
		r.stmt = nil
	}
}
