package accounts

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

type User struct {
	bun.BaseModel `bun:"table:users"`

	ID             int64      `bun:"id,pk,autoincrement" json:"id"`
	Identifier     string     `bun:"identifier" json:"identifier"`
	IdentifierKind string     `bun:"identifier_kind" json:"identifier_kind"`
	Status         string     `bun:"status" json:"status"`
	Limits         UserLimits `bun:"embed:" json:"limits"`
	CreatedAt      time.Time  `bun:"created_at,nullzero" json:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at,nullzero" json:"updated_at"`
}

// UserLimits are the per-user overrides; null means the plan's value applies.
type UserLimits struct {
	TrafficLimitGB *Decimal `bun:"traffic_limit_gb" json:"traffic_limit_gb"`
	SpeedLimitMbps *int     `bun:"speed_limit_mbps" json:"speed_limit_mbps"`
	MaxSessions    *int     `bun:"max_sessions" json:"max_sessions"`
}

type Plan struct {
	bun.BaseModel `bun:"table:plans"`

	ID             int64     `bun:"id,pk,autoincrement" json:"id"`
	Name           string    `bun:"name" json:"name"`
	MaxDevices     int       `bun:"max_devices" json:"max_devices"`
	TrafficLimitGB *Decimal  `bun:"traffic_limit_gb" json:"traffic_limit_gb"`
	MaxSessions    *int      `bun:"max_sessions" json:"max_sessions"`
	SpeedLimitMbps *int      `bun:"speed_limit_mbps" json:"speed_limit_mbps"`
	Price          *Decimal  `bun:"price" json:"price"`
	Currency       *string   `bun:"currency" json:"currency"`
	CreatedAt      time.Time `bun:"created_at,nullzero" json:"created_at"`
	UpdatedAt      time.Time `bun:"updated_at,nullzero" json:"updated_at"`
}

type Subscription struct {
	bun.BaseModel `bun:"table:subscriptions"`

	ID         int64     `bun:"id,pk,autoincrement" json:"id"`
	UserID     int64     `bun:"user_id" json:"user_id"`
	PlanID     int64     `bun:"plan_id" json:"plan_id"`
	ValidUntil time.Time `bun:"valid_until" json:"valid_until"`
	Status     string    `bun:"status" json:"status"`
	CreatedAt  time.Time `bun:"created_at,nullzero" json:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at,nullzero" json:"updated_at"`
}

type Device struct {
	bun.BaseModel `bun:"table:devices"`

	ID           int64      `bun:"id,pk,autoincrement" json:"id"`
	UserID       int64      `bun:"user_id" json:"user_id"`
	DeviceUUID   string     `bun:"device_uuid" json:"device_uuid"`
	Platform     string     `bun:"platform" json:"platform"`
	Status       string     `bun:"status" json:"status"`
	TokenVersion int        `bun:"token_version,nullzero" json:"token_version"`
	LastSeenAt   *time.Time `bun:"last_seen_at" json:"last_seen_at"`
	CreatedAt    time.Time  `bun:"created_at,nullzero" json:"created_at"`
	UpdatedAt    time.Time  `bun:"updated_at,nullzero" json:"updated_at"`
}

// IssuedDevice is the reply of devices create and rotate: the only replies carrying the token.
type IssuedDevice struct {
	Device
	AccessToken string `json:"access_token"`
}

var (
	_ bun.AfterScanRowHook = (*User)(nil)
	_ bun.AfterScanRowHook = (*Plan)(nil)
	_ bun.AfterScanRowHook = (*Subscription)(nil)
	_ bun.AfterScanRowHook = (*Device)(nil)
)

// The AfterScanRow hooks report every timestamp in UTC, whatever the session time zone.

func (u *User) AfterScanRow(context.Context) error {
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return nil
}

func (p *Plan) AfterScanRow(context.Context) error {
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return nil
}

func (s *Subscription) AfterScanRow(context.Context) error {
	s.ValidUntil, s.CreatedAt, s.UpdatedAt = s.ValidUntil.UTC(), s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return nil
}

func (d *Device) AfterScanRow(context.Context) error {
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	if d.LastSeenAt != nil {
		t := d.LastSeenAt.UTC()
		d.LastSeenAt = &t
	}
	return nil
}
