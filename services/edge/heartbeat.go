package edge

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/httvps/httvps/schemas"
)

type gatewayHeartbeatBody struct {
	GatewayID       string   `json:"gateway_id"`
	Region          string   `json:"region"`
	PublicIP        string   `json:"public_ip"`
	InternalIP      string   `json:"internal_ip"`
	Version         string   `json:"version"`
	Status          string   `json:"status"`
	Sessions        *int64   `json:"sessions"`
	Streams         *int64   `json:"streams"`
	BytesUpPerSec   float64  `json:"bytes_up_per_sec"`
	BytesDownPerSec float64  `json:"bytes_down_per_sec"`
	IntervalSeconds *float64 `json:"interval_seconds"`
	SentAt          *string  `json:"sent_at"`

	heartbeat schemas.GatewayHeartbeat
}

func (b *gatewayHeartbeatBody) validate() *apiError {
	var f fields
	f.token("gateway_id", b.GatewayID, true)
	f.token("region", b.Region, true)
	f.ip("public_ip", b.PublicIP)
	f.ip("internal_ip", b.InternalIP)
	f.text("version", b.Version, false, 64)
	f.oneOf("status", b.Status, schemas.GatewayStatusOnline, schemas.GatewayStatusDraining, schemas.GatewayStatusOffline)
	sessions := f.nonNegative("sessions", b.Sessions)
	streams := f.nonNegative("streams", b.Streams)
	if b.BytesUpPerSec < 0 {
		f.fail("bytes_up_per_sec", "must not be negative")
	}
	if b.BytesDownPerSec < 0 {
		f.fail("bytes_down_per_sec", "must not be negative")
	}
	if b.IntervalSeconds == nil || *b.IntervalSeconds <= 0 {
		f.fail("interval_seconds", "required, a positive number of seconds")
	}
	sent := f.time("sent_at", b.SentAt, false)
	if f.err != nil {
		return f.err
	}
	b.heartbeat = schemas.GatewayHeartbeat{
		GatewayID:       b.GatewayID,
		Region:          b.Region,
		PublicIP:        b.PublicIP,
		InternalIP:      b.InternalIP,
		Version:         b.Version,
		Status:          b.Status,
		Sessions:        int(sessions),
		Streams:         int(streams),
		BytesUpPerSec:   b.BytesUpPerSec,
		BytesDownPerSec: b.BytesDownPerSec,
		IntervalSeconds: *b.IntervalSeconds,
		SentAt:          sentOrNow(sent),
	}
	return nil
}

func (s *Service) gatewayHeartbeat(c *fiber.Ctx) error {
	var body gatewayHeartbeatBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	ack, err := s.publish(c.UserContext(), schemas.StreamHeartbeats, schemas.GatewayHeartbeatSubject(body.GatewayID), "", body.heartbeat)
	if err != nil {
		return err
	}
	return accepted(c, ack)
}

type outlineHeartbeatBody struct {
	NodeID            int64   `json:"node_id"`
	HealthStatus      string  `json:"health_status"`
	Reason            string  `json:"reason"`
	ActiveConnections int64   `json:"active_connections"`
	BytesPerSec       float64 `json:"bytes_per_sec"`
	Load              float64 `json:"load"`
	ProbeMS           float64 `json:"probe_ms"`
	IntervalSeconds   float64 `json:"interval_seconds"`
	SentAt            *string `json:"sent_at"`

	heartbeat schemas.OutlineHeartbeat
}

func (b *outlineHeartbeatBody) validate() *apiError {
	var f fields
	f.positive("node_id", b.NodeID)
	f.oneOf("health_status", b.HealthStatus, schemas.HealthHealthy, schemas.HealthUnhealthy, schemas.HealthOffline)
	if b.ActiveConnections < 0 {
		f.fail("active_connections", "must not be negative")
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"bytes_per_sec", b.BytesPerSec}, {"load", b.Load}, {"probe_ms", b.ProbeMS}, {"interval_seconds", b.IntervalSeconds}} {
		if r.v < 0 {
			f.fail(r.name, "must not be negative")
		}
	}
	f.text("reason", b.Reason, false, 255)
	sent := f.time("sent_at", b.SentAt, false)
	if f.err != nil {
		return f.err
	}
	b.heartbeat = schemas.OutlineHeartbeat{
		NodeID:            b.NodeID,
		HealthStatus:      b.HealthStatus,
		Reason:            b.Reason,
		ActiveConnections: int(b.ActiveConnections),
		BytesPerSec:       b.BytesPerSec,
		Load:              b.Load,
		ProbeMS:           b.ProbeMS,
		IntervalSeconds:   b.IntervalSeconds,
		SentAt:            sentOrNow(sent),
	}
	return nil
}

func (s *Service) outlineHeartbeat(c *fiber.Ctx) error {
	var body outlineHeartbeatBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	ack, err := s.publish(c.UserContext(), schemas.StreamHeartbeats, schemas.OutlineHeartbeatSubject(body.NodeID), "", body.heartbeat)
	if err != nil {
		return err
	}
	return accepted(c, ack)
}

func sentOrNow(t *time.Time) time.Time {
	if t != nil {
		return *t
	}
	return time.Now().UTC()
}
