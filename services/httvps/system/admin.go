package system

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go"
)

// Admin sends admin commands over NATS, as the REST edge does.
type Admin struct {
	NC      *nats.Conn
	Timeout time.Duration
}

func (a Admin) Call(ctx context.Context, resource, verb string, req schemas.AdminRequest, out any) error {
	return admin.Client{NC: a.NC, Timeout: a.Timeout}.Call(ctx, resource, verb, req, out)
}

func (a Admin) create(ctx context.Context, resource string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return a.Call(ctx, resource, schemas.VerbCreate, schemas.AdminRequest{Body: raw}, out)
}

// GetOrCreate fetches the object key of resource, creating it from body when there is none.
func (a Admin) GetOrCreate(ctx context.Context, resource, key string, body, out any) error {
	err := a.Call(ctx, resource, schemas.VerbGet, schemas.AdminRequest{Key: key}, out)
	if re, ok := rpc.AsRPCError(err); ok && re.Code == schemas.CodeNotFound {
		return a.create(ctx, resource, body, out)
	}
	return err
}

// EnsureNode registers n (and its region) unless a node of the region has its address, which
// is then marked healthy; it returns the node's id.
func (a Admin) EnsureNode(ctx context.Context, n Node) (int64, error) {
	if err := a.GetOrCreate(ctx, schemas.ResourceRegions, n.Region, map[string]any{"code": n.Region, "name": n.Region}, nil); err != nil {
		return 0, err
	}
	var nodes []struct {
		ID         int64  `json:"id"`
		InternalIP string `json:"internal_ip"`
		SSPort     int    `json:"ss_port"`
	}
	req := schemas.AdminRequest{Filter: map[string]string{"region": n.Region}, Limit: admin.MaxLimit}
	if err := a.Call(ctx, schemas.ResourceOutlineNodes, schemas.VerbList, req, &nodes); err != nil {
		return 0, err
	}
	for _, have := range nodes {
		if have.InternalIP == n.IP && have.SSPort == n.Port {
			return have.ID, a.Call(ctx, schemas.ResourceOutlineNodes, schemas.VerbSetStatus, schemas.AdminRequest{ID: have.ID, Body: json.RawMessage(`{"status":"healthy"}`)}, nil)
		}
	}
	maxSessions := n.MaxSessions
	if maxSessions <= 0 {
		maxSessions = 100000
	}
	var created struct {
		ID int64 `json:"id"`
	}
	err := a.create(ctx, schemas.ResourceOutlineNodes, map[string]any{
		"region": n.Region, "name": fmt.Sprintf("%s-%s-%d", n.Region, n.IP, n.Port), "internal_ip": n.IP, "ss_port": n.Port,
		"ss_method": n.Method, "ss_password": n.Password, "max_sessions": maxSessions,
	}, &created)
	return created.ID, err
}

// Device is an issued device with its token.
type Device struct {
	ID         int64  `json:"id"`
	UserID     int64  `json:"user_id"`
	DeviceUUID string `json:"device_uuid"`
	Token      string `json:"access_token"`
}

// Subscriber creates a user with a plan of maxDevices, a 30-day subscription and one device.
func (a Admin) Subscriber(ctx context.Context, name string, maxDevices int) (Device, error) {
	var user, plan struct {
		ID int64 `json:"id"`
	}
	if err := a.create(ctx, schemas.ResourceUsers, map[string]any{"identifier": name + "@example.com", "identifier_kind": "email"}, &user); err != nil {
		return Device{}, err
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
	err := a.create(ctx, schemas.ResourceDevices, map[string]any{"user_id": userID, "platform": "linux"}, &d)
	return d, err
}

// Revoke revokes a device by its uuid.
func (a Admin) Revoke(ctx context.Context, deviceUUID string) error {
	return a.Call(ctx, schemas.ResourceDevices, schemas.VerbRevoke, schemas.AdminRequest{Key: deviceUUID}, nil)
}
