package edge_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/edge"
	"github.com/httvps/httvps/shared/testkit"
)

type created struct {
	ID int64 `json:"id"`
}

func (h *harness) admin(method, path, body string, status int, out any) {
	h.t.Helper()
	r := h.do(method, path, adminToken, body)
	wantStatus(h.t, r, status)
	if out != nil {
		r.decode(h.t, out)
	}
}

// TestSystemWalkthrough drives the real services through the edge only, as an operator would.
func TestSystemWalkthrough(t *testing.T) {
	h := startSystem(t)

	var region struct {
		created
		Code string `json:"code"`
	}
	h.admin(http.MethodPost, "/api/v1/admin/regions", `{"code":"eu-1","name":"Europe 1"}`, http.StatusCreated, &region)
	var plan created
	h.admin(http.MethodPost, "/api/v1/admin/plans", `{"name":"basic","max_devices":1,"traffic_limit_gb":10}`, http.StatusCreated, &plan)
	var user created
	h.admin(http.MethodPost, "/api/v1/admin/users", `{"identifier":"alice@example.com","identifier_kind":"email"}`, http.StatusCreated, &user)
	var sub created
	h.admin(http.MethodPost, "/api/v1/admin/subscriptions", fmt.Sprintf(`{"user_id":%d,"plan_id":%d,"days":30}`, user.ID, plan.ID), http.StatusCreated, &sub)
	var device struct {
		created
		DeviceUUID  string `json:"device_uuid"`
		AccessToken string `json:"access_token"`
	}
	h.admin(http.MethodPost, "/api/v1/admin/devices", fmt.Sprintf(`{"user_id":%d,"platform":"linux"}`, user.ID), http.StatusCreated, &device)
	if device.AccessToken == "" || device.DeviceUUID == "" {
		t.Fatalf("device %+v", device)
	}
	var node struct {
		created
		SSPassword *string `json:"ss_password"`
	}
	h.admin(http.MethodPost, "/api/v1/admin/outline-nodes", `{"region":"eu-1","name":"outline-1","internal_ip":"10.0.0.7","ss_port":8388,"ss_method":"chacha20-ietf-poly1305","ss_password":"s3cret","max_sessions":100}`, http.StatusCreated, &node)
	if node.SSPassword != nil {
		t.Fatal("outline node create returned ss_password")
	}

	t.Run("conflicts and lookups", func(t *testing.T) {
		wantError(t, h.post("/api/v1/admin/users", adminToken, `{"identifier":"alice@example.com","identifier_kind":"email"}`), http.StatusConflict, "CONFLICT", "")
		wantError(t, h.post("/api/v1/admin/devices", adminToken, fmt.Sprintf(`{"user_id":%d,"platform":"android"}`, user.ID)), http.StatusConflict, "DEVICE_LIMIT_REACHED", "")
		wantError(t, h.post("/api/v1/admin/users", adminToken, `{"identifier":"bob@example.com","identifier_kind":"email","age":3}`), http.StatusBadRequest, "INVALID_ARGUMENT", "age")
		wantError(t, h.get("/api/v1/admin/users/999999", adminToken), http.StatusNotFound, "NOT_FOUND", "")
		wantError(t, h.get("/api/v1/admin/users?colour=red", adminToken), http.StatusBadRequest, "INVALID_ARGUMENT", "colour")
		var byKey created
		h.admin(http.MethodGet, "/api/v1/admin/users/alice@example.com", "", http.StatusOK, &byKey)
		h.admin(http.MethodGet, "/api/v1/admin/regions/eu-1", "", http.StatusOK, nil)
		h.admin(http.MethodGet, "/api/v1/admin/plans/basic", "", http.StatusOK, nil)
		h.admin(http.MethodGet, "/api/v1/admin/devices/"+device.DeviceUUID, "", http.StatusOK, nil)
		h.admin(http.MethodGet, fmt.Sprintf("/api/v1/admin/outline-nodes/%d", node.ID), "", http.StatusOK, nil)
		h.admin(http.MethodGet, fmt.Sprintf("/api/v1/admin/subscriptions/%d", sub.ID), "", http.StatusOK, nil)
		if byKey.ID != user.ID {
			t.Fatalf("user by identifier %d, want %d", byKey.ID, user.ID)
		}
		var page edge.ListPage
		h.admin(http.MethodGet, "/api/v1/admin/users?limit=1&status=active", "", http.StatusOK, &page)
		if page.Total != 1 || page.Limit != 1 {
			t.Fatalf("page %+v", page)
		}
		for _, res := range []string{"regions", "plans", "users", "subscriptions", "devices", "outline-nodes", "gateway-nodes", "sessions", "usage"} {
			h.admin(http.MethodGet, "/api/v1/admin/"+res, "", http.StatusOK, nil)
		}
	})

	t.Run("validate device", func(t *testing.T) {
		r := h.post("/api/v1/auth/validate-device", nodeToken, map[string]string{"device_id": device.DeviceUUID, "access_token": device.AccessToken, "region": "eu-1"})
		wantStatus(t, r, http.StatusOK)
		var rep schemas.ValidateDeviceReply
		strictDecode(t, r.raw, &rep)
		if !rep.OK || rep.UserID != user.ID || rep.Subscription == nil || rep.Subscription.ID != sub.ID || rep.Limits == nil || rep.Limits.MaxDevices != 1 {
			t.Fatalf("reply %s", r.raw)
		}
		bad := h.post("/api/v1/auth/validate-device", nodeToken, map[string]string{"device_id": device.DeviceUUID, "access_token": "forged", "region": "eu-1"})
		wantError(t, bad, http.StatusForbidden, "INVALID_TOKEN", "")
	})

	t.Run("assign outline", func(t *testing.T) {
		r := h.post("/api/v1/nodes/assign-outline", nodeToken, map[string]any{"region": "eu-1", "user_id": user.ID, "device_id": device.DeviceUUID})
		wantStatus(t, r, http.StatusOK)
		var rep schemas.AssignOutlineReply
		strictDecode(t, r.raw, &rep)
		if rep.Node == nil || rep.Node.NodeID != node.ID || rep.Node.SSPassword != "s3cret" || rep.Node.SSPort != 8388 {
			t.Fatalf("reply %s", r.raw)
		}
		wantError(t, h.post("/api/v1/nodes/assign-outline", nodeToken, map[string]any{"region": "xx-9", "user_id": user.ID, "device_id": device.DeviceUUID}), http.StatusNotFound, "REGION_UNKNOWN", "")
	})

	t.Run("usage report reaches the user's usage once", func(t *testing.T) {
		const session = "0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10"
		report := fmt.Sprintf(`{"gateway_id":"gw-eu-1-a","device_id":%q,"session_id":%q,"bytes_up":1000,"bytes_down":5000,"started_at":%q,"region":"eu-1"}`,
			device.DeviceUUID, session, time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
		wantStatus(t, h.post("/api/v1/usage/report", nodeToken, report), http.StatusAccepted)
		wantStatus(t, h.post("/api/v1/usage/report", nodeToken, report), http.StatusAccepted)
		var usage struct {
			UserID     int64 `json:"user_id"`
			BytesUp    int64 `json:"bytes_up"`
			BytesDown  int64 `json:"bytes_down"`
			TotalBytes int64 `json:"total_bytes"`
			Limit      int64 `json:"traffic_limit_bytes"`
		}
		testkit.Eventually(t, 15*time.Second, "usage applied", func() bool {
			h.admin(http.MethodGet, fmt.Sprintf("/api/v1/admin/users/%d/usage", user.ID), "", http.StatusOK, &usage)
			return usage.TotalBytes > 0
		})
		if usage.BytesUp != 1000 || usage.BytesDown != 5000 || usage.TotalBytes != 6000 || usage.Limit != 10_000_000_000 {
			t.Fatalf("usage %+v", usage)
		}
		var sess struct {
			UserID    int64 `json:"user_id"`
			BytesDown int64 `json:"bytes_down"`
		}
		h.admin(http.MethodGet, "/api/v1/admin/sessions/"+session, "", http.StatusOK, &sess)
		if sess.UserID != user.ID || sess.BytesDown != 5000 {
			t.Fatalf("session %+v", sess)
		}
	})

	t.Run("plan, subscription and usage change", func(t *testing.T) {
		var changed struct {
			SpeedLimitMbps *int `json:"speed_limit_mbps"`
			MaxDevices     int  `json:"max_devices"`
		}
		h.admin(http.MethodPatch, fmt.Sprintf("/api/v1/admin/plans/%d", plan.ID), `{"speed_limit_mbps":50}`, http.StatusOK, &changed)
		if changed.SpeedLimitMbps == nil || *changed.SpeedLimitMbps != 50 || changed.MaxDevices != 1 {
			t.Fatalf("plan after patch %+v", changed)
		}
		wantError(t, h.do(http.MethodPatch, "/api/v1/admin/plans/basic", adminToken, `{}`), http.StatusBadRequest, "INVALID_ARGUMENT", "at least one field")
		wantError(t, h.do(http.MethodPatch, "/api/v1/admin/plans/basic", adminToken, `{"max_devices":`), http.StatusBadRequest, "INVALID_ARGUMENT", "")
		var premium created
		h.admin(http.MethodPost, "/api/v1/admin/plans", `{"name":"premium","max_devices":2,"traffic_limit_gb":20}`, http.StatusCreated, &premium)
		h.admin(http.MethodPatch, fmt.Sprintf("/api/v1/admin/subscriptions/%d", sub.ID), fmt.Sprintf(`{"plan_id":%d}`, premium.ID), http.StatusOK, nil)
		wantError(t, h.do(http.MethodPatch, fmt.Sprintf("/api/v1/admin/subscriptions/%d", sub.ID), adminToken, `{"plan_id":999999}`), http.StatusNotFound, "NOT_FOUND", "")
		var reset struct {
			TotalBytes int64  `json:"total_bytes"`
			Reason     string `json:"reason"`
		}
		h.admin(http.MethodPost, fmt.Sprintf("/api/v1/admin/users/%d/usage/reset", user.ID), `{"reason":"paid again"}`, http.StatusOK, &reset)
		if reset.TotalBytes != 6000 || reset.Reason != "paid again" {
			t.Fatalf("reset %+v, want the 6000 bytes reported above", reset)
		}
		var usage struct {
			TotalBytes int64 `json:"total_bytes"`
			Limit      int64 `json:"traffic_limit_bytes"`
		}
		h.admin(http.MethodGet, fmt.Sprintf("/api/v1/admin/users/%d/usage", user.ID), "", http.StatusOK, &usage)
		if usage.TotalBytes != 0 || usage.Limit != 20_000_000_000 {
			t.Fatalf("usage after reset and plan change %+v", usage)
		}
		wantError(t, h.post("/api/v1/admin/users/999999/usage/reset", adminToken, ""), http.StatusNotFound, "NOT_FOUND", "")
		wantError(t, h.post("/api/v1/admin/users/x/usage/reset", adminToken, ""), http.StatusBadRequest, "INVALID_ARGUMENT", "path id")
		h.admin(http.MethodPatch, fmt.Sprintf("/api/v1/admin/subscriptions/%d", sub.ID), fmt.Sprintf(`{"plan_id":%d}`, plan.ID), http.StatusOK, nil)
	})

	t.Run("heartbeats reach node-registry", func(t *testing.T) {
		wantStatus(t, h.post("/api/v1/gateway/heartbeat", nodeToken, `{"gateway_id":"gw-eu-1-a","region":"eu-1","public_ip":"203.0.113.10","status":"online","sessions":3,"streams":7,"interval_seconds":10}`), http.StatusAccepted)
		var gw struct {
			Sessions int    `json:"sessions"`
			Status   string `json:"status"`
		}
		testkit.Eventually(t, 15*time.Second, "gateway node registered", func() bool {
			r := h.get("/api/v1/admin/gateway-nodes/gw-eu-1-a", adminToken)
			if r.status != http.StatusOK {
				return false
			}
			r.decode(t, &gw)
			return gw.Sessions == 3
		})
		wantStatus(t, h.post("/api/v1/outline/heartbeat", nodeToken, fmt.Sprintf(`{"node_id":%d,"health_status":"unhealthy"}`, node.ID)), http.StatusAccepted)
		testkit.Eventually(t, 15*time.Second, "outline node unhealthy", func() bool {
			var n struct {
				HealthStatus string `json:"health_status"`
			}
			h.admin(http.MethodGet, fmt.Sprintf("/api/v1/admin/outline-nodes/%d", node.ID), "", http.StatusOK, &n)
			return n.HealthStatus == "unhealthy"
		})
		h.admin(http.MethodPost, fmt.Sprintf("/api/v1/admin/outline-nodes/%d/status", node.ID), `{"status":"healthy"}`, http.StatusOK, nil)
	})

	t.Run("revoked device is refused", func(t *testing.T) {
		h.admin(http.MethodPost, "/api/v1/admin/devices/"+device.DeviceUUID+"/revoke", `{"reason":"lost phone"}`, http.StatusOK, nil)
		r := h.post("/api/v1/auth/validate-device", nodeToken, map[string]string{"device_id": device.DeviceUUID, "access_token": device.AccessToken, "region": "eu-1"})
		wantError(t, r, http.StatusForbidden, "DEVICE_REVOKED", "")
		h.admin(http.MethodPost, fmt.Sprintf("/api/v1/admin/subscriptions/%d/extend", sub.ID), `{"days":10}`, http.StatusOK, nil)
		h.admin(http.MethodPost, fmt.Sprintf("/api/v1/admin/users/%d/status", user.ID), `{"status":"banned"}`, http.StatusOK, nil)
		h.admin(http.MethodPost, fmt.Sprintf("/api/v1/admin/subscriptions/%d/cancel", sub.ID), "", http.StatusOK, nil)
	})
}
