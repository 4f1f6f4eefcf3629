package httvps

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/httvps/system"
	"github.com/httvps/httvps/shared/rpc"
)

type demoSeed struct {
	UserID   int64
	DeviceID string
	Token    string
	Region   string
}

type idObject struct {
	ID int64 `json:"id"`
}

func seedDemo(ctx context.Context, a system.Admin, cfg DemoConfig) (demoSeed, error) {
	var region, plan, user idObject
	if err := a.GetOrCreate(ctx, schemas.ResourceRegions, cfg.Region, map[string]any{"code": cfg.Region, "name": "Local demo region"}, &region); err != nil {
		return demoSeed{}, err
	}
	if err := a.GetOrCreate(ctx, schemas.ResourcePlans, cfg.Plan, map[string]any{"name": cfg.Plan, "max_devices": 5}, &plan); err != nil {
		return demoSeed{}, err
	}
	if err := a.GetOrCreate(ctx, schemas.ResourceUsers, cfg.User, map[string]any{"identifier": cfg.User, "identifier_kind": "email"}, &user); err != nil {
		return demoSeed{}, err
	}
	if err := a.Call(ctx, schemas.ResourceUsers, schemas.VerbSetStatus, schemas.AdminRequest{ID: user.ID, Body: json.RawMessage(`{"status":"active"}`)}, nil); err != nil {
		return demoSeed{}, err
	}
	if err := ensureSubscription(ctx, a, user.ID, plan.ID); err != nil {
		return demoSeed{}, err
	}
	token, err := demoToken(ctx, a, cfg, user.ID)
	if err != nil {
		return demoSeed{}, err
	}
	return demoSeed{UserID: user.ID, DeviceID: cfg.DeviceID, Token: token, Region: cfg.Region}, nil
}

func ensureSubscription(ctx context.Context, a system.Admin, userID, planID int64) error {
	var subs []idObject
	filter := map[string]string{"user_id": strconv.FormatInt(userID, 10), "status": "active"}
	if err := a.Call(ctx, schemas.ResourceSubscriptions, schemas.VerbList, schemas.AdminRequest{Filter: filter}, &subs); err != nil {
		return err
	}
	if len(subs) > 0 {
		return nil
	}
	body, _ := json.Marshal(map[string]any{"user_id": userID, "plan_id": planID, "days": 365})
	return a.Call(ctx, schemas.ResourceSubscriptions, schemas.VerbCreate, schemas.AdminRequest{Body: body}, nil)
}

func demoToken(ctx context.Context, a system.Admin, cfg DemoConfig, userID int64) (string, error) {
	var dev struct {
		ID          int64  `json:"id"`
		AccessToken string `json:"access_token"`
	}
	err := a.Call(ctx, schemas.ResourceDevices, schemas.VerbGet, schemas.AdminRequest{Key: cfg.DeviceID}, &dev)
	if re, ok := rpc.AsRPCError(err); ok && re.Code == schemas.CodeNotFound {
		body, _ := json.Marshal(map[string]any{"user_id": userID, "device_uuid": cfg.DeviceID, "platform": "linux"})
		err = a.Call(ctx, schemas.ResourceDevices, schemas.VerbCreate, schemas.AdminRequest{Body: body}, &dev)
		return dev.AccessToken, err
	}
	if err != nil {
		return "", err
	}
	if err := a.Call(ctx, schemas.ResourceDevices, schemas.VerbRotate, schemas.AdminRequest{ID: dev.ID}, &dev); err != nil {
		return "", err
	}
	if dev.AccessToken == "" {
		return "", errors.New("devices rotate: no access_token in the reply")
	}
	return dev.AccessToken, nil
}
