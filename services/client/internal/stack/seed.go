package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
	"github.com/nats-io/nats.go"
)

const adminTimeout = 10 * time.Second

// Admin sends admin commands over NATS, as the REST edge does.
type Admin struct{ NC *nats.Conn }

func (a Admin) Call(ctx context.Context, resource, verb string, req schemas.AdminRequest, out any) error {
	return admin.Client{NC: a.NC, Timeout: adminTimeout}.Call(ctx, resource, verb, req, out)
}

func (a Admin) create(ctx context.Context, resource string, body any, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return a.Call(ctx, resource, schemas.VerbCreate, schemas.AdminRequest{Body: raw}, out)
}

// Node is an Outline node to register.
type Node struct {
	IP, Method, Password string
	Port, MaxSessions    int
}

// Region creates a region with one Outline node.
func (a Admin) Region(ctx context.Context, code string, node Node) error {
	if err := a.create(ctx, schemas.ResourceRegions, map[string]any{"code": code, "name": code}, nil); err != nil {
		return err
	}
	return a.create(ctx, schemas.ResourceOutlineNodes, map[string]any{
		"region": code, "name": fmt.Sprintf("%s-node-%d", code, node.Port), "internal_ip": node.IP, "ss_port": node.Port,
		"ss_method": node.Method, "ss_password": node.Password, "max_sessions": node.MaxSessions,
	}, nil)
}

// Device is an issued device with its token.
type Device struct {
	UserID     int64  `json:"user_id"`
	DeviceUUID string `json:"device_uuid"`
	Token      string `json:"access_token"`
}

// Subscriber creates a user with a plan of maxDevices, a 30-day subscription and one device.
func (a Admin) Subscriber(ctx context.Context, name string, maxDevices int) (Device, error) {
	var user struct {
		ID int64 `json:"id"`
	}
	if err := a.create(ctx, schemas.ResourceUsers, map[string]any{"identifier": name + "@example.com", "identifier_kind": "email"}, &user); err != nil {
		return Device{}, err
	}
	var plan struct {
		ID int64 `json:"id"`
	}
	if err := a.create(ctx, schemas.ResourcePlans, map[string]any{"name": "plan-" + name, "max_devices": maxDevices}, &plan); err != nil {
		return Device{}, err
	}
	if err := a.create(ctx, schemas.ResourceSubscriptions, map[string]any{"user_id": user.ID, "plan_id": plan.ID, "days": 30}, nil); err != nil {
		return Device{}, err
	}
	return a.NewDevice(ctx, user.ID)
}

// NewDevice issues one more device for a user.
func (a Admin) NewDevice(ctx context.Context, userID int64) (Device, error) {
	var d Device
	if err := a.create(ctx, schemas.ResourceDevices, map[string]any{"user_id": userID, "platform": "linux"}, &d); err != nil {
		return Device{}, err
	}
	return d, nil
}

// Revoke revokes a device by its uuid.
func (a Admin) Revoke(ctx context.Context, deviceUUID string) error {
	return a.Call(ctx, schemas.ResourceDevices, schemas.VerbRevoke, schemas.AdminRequest{Key: deviceUUID}, nil)
}
