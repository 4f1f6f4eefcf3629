package accounts

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
	"github.com/uptrace/bun"
)

var deviceStatuses = []string{statusActive, statusRevoked}

type createDeviceBody struct {
	UserID     int64  `json:"user_id"`
	DeviceUUID string `json:"device_uuid"`
	Platform   string `json:"platform"`
}

func (s *Service) listDevices(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	devices := []Device{}
	total, err := s.listByUser(ctx, req, &devices, deviceStatuses)
	return devices, total, err
}

func (s *Service) getDevice(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := targetOf(req, "device_uuid")
	if err != nil {
		return nil, 0, err
	}
	var d Device
	cond, arg := t.clause()
	if err := s.getOne(ctx, s.db.NewSelect().Model(&d).Where(cond, arg), "device", t); err != nil {
		return nil, 0, err
	}
	return d, 0, nil
}

func (s *Service) createDevice(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	var b createDeviceBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return nil, 0, err
	}
	if b.DeviceUUID == "" {
		b.DeviceUUID = newUUID()
	}
	switch {
	case b.UserID <= 0:
		return nil, 0, admin.Invalid("user_id: required, a positive number")
	case !deviceUUIDPattern.MatchString(b.DeviceUUID):
		return nil, 0, admin.Invalid("device_uuid: must be 1 to 64 letters, digits, '-' or '_'")
	case b.Platform == "":
		return nil, 0, admin.Invalid("platform: required, such as android, ios, windows, macos, linux")
	case len(b.Platform) > maxShortText:
		return nil, 0, admin.Invalid("platform: at most %d characters", maxShortText)
	}
	d := Device{UserID: b.UserID, DeviceUUID: b.DeviceUUID, Platform: b.Platform, Status: statusActive, TokenVersion: 1}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockUser(ctx, tx, b.UserID); err != nil {
			return err
		}
		if err := deviceRoom(ctx, tx, b.UserID); err != nil {
			return err
		}
		_, err := tx.NewInsert().Model(&d).Returning("*").Exec(ctx)
		if isUniqueViolation(err) {
			return admin.Conflict("device_uuid %q already exists", b.DeviceUUID)
		}
		return err
	})
	if err != nil {
		return nil, 0, s.dbErr(err, "create device")
	}
	return s.issue(d)
}

func (s *Service) revokeDevice(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := targetOf(req, "device_uuid")
	if err != nil {
		return nil, 0, err
	}
	reason, err := optionalReason(req, "device revoked by admin")
	if err != nil {
		return nil, 0, err
	}
	var d Device
	cond, arg := t.clause()
	err = s.db.NewUpdate().Model(&d).Set("status = ?", statusRevoked).Set("updated_at = now()").
		Where(cond, arg).Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, admin.NotFound("device %s not found", t)
	}
	if err != nil {
		return nil, 0, s.dbErr(err, "revoke device")
	}
	s.events.revokeDevice(d.DeviceUUID, schemas.CodeDeviceRevoked, reason)
	return d, 0, nil
}

func (s *Service) rotateDevice(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := targetOf(req, "device_uuid")
	if err != nil {
		return nil, 0, err
	}
	var d Device
	cond, arg := t.clause()
	err = s.db.NewUpdate().Model(&d).Set("token_version = token_version + 1").Set("updated_at = now()").
		Where(cond, arg).Where("status = ?", statusActive).Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		exists, xerr := s.db.NewSelect().Model((*Device)(nil)).Where(cond, arg).Exists(ctx)
		switch {
		case xerr != nil:
			return nil, 0, s.dbErr(xerr, "rotate device")
		case exists:
			return nil, 0, admin.Conflict("device %s is revoked; create a new device instead", t)
		}
		return nil, 0, admin.NotFound("device %s not found", t)
	}
	if err != nil {
		return nil, 0, s.dbErr(err, "rotate device")
	}
	s.events.revokeDevice(d.DeviceUUID, schemas.CodeInvalidToken, "access token rotated by admin")
	return s.issue(d)
}

func (s *Service) issue(d Device) (any, int64, error) {
	tok, err := s.tokens.Issue(d.DeviceUUID, d.UserID, d.TokenVersion)
	if err != nil {
		return nil, 0, err
	}
	return IssuedDevice{Device: d, AccessToken: tok}, 0, nil
}

// deviceRoom refuses a new device when the user's current plan is already filled.
// Without a current subscription there is no plan to apply: validation refuses later.
func deviceRoom(ctx context.Context, tx bun.Tx, userID int64) error {
	var room struct {
		PlanName   string `bun:"plan_name"`
		MaxDevices int    `bun:"max_devices"`
		Active     int    `bun:"active"`
	}
	err := tx.NewRaw(`SELECT p.name AS plan_name, p.max_devices,
			(SELECT count(*) FROM devices WHERE user_id = s.user_id AND status = 'active') AS active
		FROM subscriptions AS s JOIN plans AS p ON p.id = s.plan_id
		WHERE s.user_id = ? AND s.status = 'active' AND s.valid_until > now()
		ORDER BY s.valid_until DESC, s.id DESC LIMIT 1`, userID).Scan(ctx, &room)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("count active devices: %w", err)
	}
	if room.Active >= room.MaxDevices {
		return &schemas.RPCError{Code: schemas.CodeDeviceLimitReached, Limit: schemas.LimitDevices, Message: fmt.Sprintf(
			"user %d already has %d active devices, plan %s allows %d; revoke one first", userID, room.Active, room.PlanName, room.MaxDevices)}
	}
	return nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
