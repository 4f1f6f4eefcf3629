package gateway_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
)

func TestControlEventsEndSessions(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	nc := w.nats.Conn(t)
	tests := []struct {
		name   string
		event  func(sessionID string) schemas.ControlEvent
		code   schemas.ErrorCode
		limit  schemas.LimitKind
		reason string
	}{
		{"kick session", func(id string) schemas.ControlEvent {
			return schemas.ControlEvent{Scope: schemas.ScopeSession, ID: id, What: schemas.ControlKick, Code: schemas.CodeSessionKicked}
		}, schemas.CodeSessionKicked, "", schemas.EndReasonKicked},
		{"revoke device", func(string) schemas.ControlEvent {
			return schemas.ControlEvent{Scope: schemas.ScopeDevice, ID: deviceID, What: schemas.ControlRevoke, Code: schemas.CodeDeviceRevoked}
		}, schemas.CodeDeviceRevoked, "", schemas.EndReasonRevoked},
		{"ban user", func(string) schemas.ControlEvent {
			return schemas.ControlEvent{Scope: schemas.ScopeUser, ID: strconv.Itoa(userID), What: schemas.ControlRevoke, Code: schemas.CodeUserBanned}
		}, schemas.CodeUserBanned, "", schemas.EndReasonRevoked},
		{"traffic limit", func(string) schemas.ControlEvent {
			return schemas.ControlEvent{Scope: schemas.ScopeUser, ID: strconv.Itoa(userID), What: schemas.ControlLimit, Code: schemas.CodeLimitReached, Limit: schemas.LimitTraffic}
		}, schemas.CodeLimitReached, schemas.LimitTraffic, schemas.EndReasonLimit},
		{"kick gateway", func(string) schemas.ControlEvent {
			return schemas.ControlEvent{Scope: schemas.ScopeGateway, ID: testenv.GatewayID, What: schemas.ControlKick}
		}, schemas.CodeSessionKicked, "", schemas.EndReasonKicked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := w.connect(t)
			bystander := w.connect(t)
			other := schemas.ControlEvent{Scope: schemas.ScopeUser, ID: "999", What: schemas.ControlKick, Code: schemas.CodeSessionKicked}
			publish(t, nc, other)
			ev := tt.event(c.HelloOK.SessionID)
			if ev.Scope == schemas.ScopeSession {
				bystander.Close()
			}
			sent := time.Now()
			publish(t, nc, ev)
			e, err := c.NextError(time.Second)
			if err != nil {
				t.Fatalf("no error frame within a second of the event: %v", err)
			}
			if took := time.Since(sent); took > time.Second {
				t.Fatalf("session ended after %s", took)
			}
			if e.Code != tt.code || e.Limit != tt.limit {
				t.Fatalf("error = %+v, want %s limit %q", e, tt.code, tt.limit)
			}
			<-c.Done()
			ended := waitEnded(t, w.nats, c.HelloOK.SessionID)
			if ended.Reason != tt.reason {
				t.Fatalf("ended reason = %q, want %q", ended.Reason, tt.reason)
			}
			if ev.Scope == schemas.ScopeSession {
				return
			}
			<-bystander.Done()
		})
	}
	survivor := w.connect(t)
	publish(t, nc, schemas.ControlEvent{Scope: schemas.ScopeDevice, ID: "another-device", What: schemas.ControlRevoke, Code: schemas.CodeDeviceRevoked})
	stillWorks(t, survivor, testenv.EchoTarget(t).Addr)
}

func publish(t *testing.T, nc interface {
	Publish(string, []byte) error
	Flush() error
}, ev schemas.ControlEvent) {
	t.Helper()
	ev.IssuedAt = time.Now().UTC()
	data, _ := json.Marshal(ev)
	if err := nc.Publish(ev.Subject(), data); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}
