package usageaggregator

import (
	"fmt"
	"strings"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

type sessionEvent struct {
	Kind   schemas.SessionEvent
	Meta   sessionMeta
	Totals *sessionTotals
}

type sessionMeta struct {
	SessionID     string
	UserID        int64
	DeviceUUID    string
	GatewayID     string
	Region        string
	OutlineNodeID int64
	StartedAt     time.Time
	EndedAt       time.Time
	EndReason     string
}

func sessionEventKind(subject string) (schemas.SessionEvent, error) {
	gateway := lastToken(subject)
	for _, kind := range []schemas.SessionEvent{schemas.SessionStartedEvent, schemas.SessionEndedEvent} {
		if subject == schemas.SessionSubject(kind, gateway) {
			return kind, nil
		}
	}
	return "", fmt.Errorf("subject %q is not a session started or ended subject", subject)
}

func decodeSessionEvent(msg jetstream.Msg) (sessionEvent, error) {
	kind, err := sessionEventKind(msg.Subject())
	if err != nil {
		return sessionEvent{}, err
	}
	if kind == schemas.SessionStartedEvent {
		return decodeStarted(msg)
	}
	return decodeEnded(msg)
}

func decodeStarted(msg jetstream.Msg) (sessionEvent, error) {
	var e schemas.SessionStarted
	if err := decodeStrict(msg.Data(), &e); err != nil {
		return sessionEvent{}, err
	}
	v := fieldChecks{}
	v.sessionID(e.SessionID)
	v.id("user_id", e.UserID)
	v.id("outline_node_id", e.OutlineNodeID)
	v.text("gateway_id", e.GatewayID)
	v.text("region", e.Region)
	v.required("device_id", e.DeviceID)
	v.text("client_version", e.ClientVersion)
	v.text("platform", e.Platform)
	if v.err != nil {
		return sessionEvent{}, v.err
	}
	gateway, err := subjectGateway(e.GatewayID, msg.Subject())
	if err != nil {
		return sessionEvent{}, err
	}
	return sessionEvent{Kind: schemas.SessionStartedEvent, Meta: sessionMeta{
		SessionID:     strings.ToLower(e.SessionID),
		UserID:        e.UserID,
		DeviceUUID:    e.DeviceID,
		GatewayID:     gateway,
		Region:        e.Region,
		OutlineNodeID: e.OutlineNodeID,
		StartedAt:     sentAt(e.StartedAt, msg),
	}}, nil
}

func decodeEnded(msg jetstream.Msg) (sessionEvent, error) {
	var e schemas.SessionEnded
	if err := decodeStrict(msg.Data(), &e); err != nil {
		return sessionEvent{}, err
	}
	v := fieldChecks{}
	v.sessionID(e.SessionID)
	v.id("user_id", e.UserID)
	v.id("outline_node_id", e.OutlineNodeID)
	v.text("gateway_id", e.GatewayID)
	v.text("region", e.Region)
	v.required("device_id", e.DeviceID)
	v.required("reason", e.Reason)
	v.seq(e.Seq)
	v.bytes("bytes_up", e.BytesUp)
	v.bytes("bytes_down", e.BytesDown)
	if v.err != nil {
		return sessionEvent{}, v.err
	}
	gateway, err := subjectGateway(e.GatewayID, msg.Subject())
	if err != nil {
		return sessionEvent{}, err
	}
	endedAt := sentAt(e.EndedAt, msg)
	meta := sessionMeta{
		SessionID:     strings.ToLower(e.SessionID),
		UserID:        e.UserID,
		DeviceUUID:    e.DeviceID,
		GatewayID:     gateway,
		Region:        e.Region,
		OutlineNodeID: e.OutlineNodeID,
		StartedAt:     orTime(e.StartedAt, endedAt),
		EndedAt:       endedAt,
		EndReason:     e.Reason,
	}
	totals := meta.totals(int64(e.Seq), e.BytesUp, e.BytesDown, messageTime(msg))
	return sessionEvent{Kind: schemas.SessionEndedEvent, Meta: meta, Totals: &totals}, nil
}

func (m sessionMeta) totals(seq, up, down int64, reportedAt time.Time) sessionTotals {
	return sessionTotals{
		SessionID:     m.SessionID,
		UserID:        m.UserID,
		DeviceUUID:    m.DeviceUUID,
		GatewayID:     m.GatewayID,
		Region:        m.Region,
		OutlineNodeID: m.OutlineNodeID,
		Seq:           seq,
		Up:            up,
		Down:          down,
		StartedAt:     m.StartedAt,
		ReportedAt:    reportedAt,
		Reports:       1,
	}
}
