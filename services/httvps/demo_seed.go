package httvps

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go"
)

type demoSeed struct {
	UserID   int64
	DeviceID string
	Token    string
	Region   string
	NodeID   int64
}

type adminClient struct {
	nc      *nats.Conn
	timeout time.Duration
}

func (a adminClient) call(ctx context.Context, resource, verb string, req schemas.AdminRequest, out any) error {
	return admin.Client{NC: a.nc, Timeout: a.timeout}.Call(ctx, resource, verb, req, out)
}

func (a adminClient) getOrCreate(ctx context.Context, resource, key string, body any, out any) error {
	err := a.call(ctx, resource, schemas.VerbGet, schemas.AdminRequest{Key: key}, out)
	if re, ok := rpc.AsRPCError(err); ok && re.Code == schemas.CodeNotFound {
		raw, merr := json.Marshal(body)
		if merr != nil {
			return merr
		}
		return a.call(ctx, resource, schemas.VerbCreate, schemas.AdminRequest{Body: raw}, out)
	}
	return err
}

type idObject struct {
	ID int64 `json:"id"`
}

func seedDemo(ctx context.Context, a adminClient, cfg DemoConfig, outline *net.TCPAddr) (demoSeed, error) {
	var region, plan, user idObject
	if err := a.getOrCreate(ctx, schemas.ResourceRegions, cfg.Region, map[string]any{"code": cfg.Region, "name": "Local demo region"}, &region); err != nil {
		return demoSeed{}, err
	}
	if err := a.getOrCreate(ctx, schemas.ResourcePlans, cfg.Plan, map[string]any{"name": cfg.Plan, "max_devices": 5}, &plan); err != nil {
		return demoSeed{}, err
	}
	if err := a.getOrCreate(ctx, schemas.ResourceUsers, cfg.User, map[string]any{"identifier": cfg.User, "identifier_kind": "email"}, &user); err != nil {
		return demoSeed{}, err
	}
	if err := a.call(ctx, schemas.ResourceUsers, schemas.VerbSetStatus, schemas.AdminRequest{ID: user.ID, Body: json.RawMessage(`{"status":"active"}`)}, nil); err != nil {
		return demoSeed{}, err
	}
	if err := ensureSubscription(ctx, a, user.ID, plan.ID); err != nil {
		return demoSeed{}, err
	}
	nodeID, err := ensureOutlineNode(ctx, a, cfg, outline)
	if err != nil {
		return demoSeed{}, err
	}
	token, err := demoToken(ctx, a, cfg, user.ID)
	if err != nil {
		return demoSeed{}, err
	}
	return demoSeed{UserID: user.ID, DeviceID: cfg.DeviceID, Token: token, Region: cfg.Region, NodeID: nodeID}, nil
}

func ensureSubscription(ctx context.Context, a adminClient, userID, planID int64) error {
	var subs []idObject
	filter := map[string]string{"user_id": strconv.FormatInt(userID, 10), "status": "active"}
	if err := a.call(ctx, schemas.ResourceSubscriptions, schemas.VerbList, schemas.AdminRequest{Filter: filter}, &subs); err != nil {
		return err
	}
	if len(subs) > 0 {
		return nil
	}
	body, _ := json.Marshal(map[string]any{"user_id": userID, "plan_id": planID, "days": 365})
	return a.call(ctx, schemas.ResourceSubscriptions, schemas.VerbCreate, schemas.AdminRequest{Body: body}, nil)
}

func ensureOutlineNode(ctx context.Context, a adminClient, cfg DemoConfig, outline *net.TCPAddr) (int64, error) {
	var nodes []struct {
		ID         int64  `json:"id"`
		InternalIP string `json:"internal_ip"`
		SSPort     int    `json:"ss_port"`
	}
	req := schemas.AdminRequest{Filter: map[string]string{"region": cfg.Region}, Limit: 500}
	if err := a.call(ctx, schemas.ResourceOutlineNodes, schemas.VerbList, req, &nodes); err != nil {
		return 0, err
	}
	for _, n := range nodes {
		if n.InternalIP == outline.IP.String() && n.SSPort == outline.Port {
			return n.ID, a.call(ctx, schemas.ResourceOutlineNodes, schemas.VerbSetStatus, schemas.AdminRequest{ID: n.ID, Body: json.RawMessage(`{"status":"healthy"}`)}, nil)
		}
	}
	body, _ := json.Marshal(map[string]any{
		"region": cfg.Region, "name": "demo-outline", "internal_ip": outline.IP.String(), "ss_port": outline.Port,
		"ss_method": cfg.OutlineMethod, "ss_password": cfg.OutlinePassword, "max_sessions": 1000,
	})
	var created idObject
	err := a.call(ctx, schemas.ResourceOutlineNodes, schemas.VerbCreate, schemas.AdminRequest{Body: body}, &created)
	return created.ID, err
}

func demoToken(ctx context.Context, a adminClient, cfg DemoConfig, userID int64) (string, error) {
	var dev struct {
		ID          int64  `json:"id"`
		AccessToken string `json:"access_token"`
	}
	err := a.call(ctx, schemas.ResourceDevices, schemas.VerbGet, schemas.AdminRequest{Key: cfg.DeviceID}, &dev)
	if re, ok := rpc.AsRPCError(err); ok && re.Code == schemas.CodeNotFound {
		body, _ := json.Marshal(map[string]any{"user_id": userID, "device_uuid": cfg.DeviceID, "platform": "linux"})
		err = a.call(ctx, schemas.ResourceDevices, schemas.VerbCreate, schemas.AdminRequest{Body: body}, &dev)
		return dev.AccessToken, err
	}
	if err != nil {
		return "", err
	}
	if err := a.call(ctx, schemas.ResourceDevices, schemas.VerbRotate, schemas.AdminRequest{ID: dev.ID}, &dev); err != nil {
		return "", err
	}
	if dev.AccessToken == "" {
		return "", errors.New("devices rotate: no access_token in the reply")
	}
	return dev.AccessToken, nil
}
