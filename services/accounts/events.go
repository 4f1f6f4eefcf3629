package accounts

import (
	"context"
	"strconv"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/logging"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

type events struct {
	js      jetstream.JetStream
	timeout time.Duration
	log     zerolog.Logger
	m       *metrics
}

// publish stores the event in the CONTROL stream; gateways away at the time replay it, and
// re-validation covers one that could not be stored.
func (e events) publish(ev schemas.ControlEvent) {
	subject := ev.Subject()
	ev, err := natsx.PublishControl(context.Background(), e.js, ev, e.timeout)
	if err != nil {
		e.m.eventErrors.Inc()
		e.log.Error().Err(err).Str(logging.FieldSubject, subject).Str(logging.FieldCode, string(ev.Code)).Msg("publish control event")
		return
	}
	label := string(ev.Code)
	if label == "" {
		label = string(ev.What)
	}
	e.m.events.WithLabelValues(label).Inc()
	e.log.Info().Str(logging.FieldSubject, subject).Str(logging.FieldCode, string(ev.Code)).Str(logging.FieldReason, ev.Reason).Msg("control event")
}

func (e events) kickUser(userID int64, code schemas.ErrorCode, reason string) {
	e.publish(schemas.ControlEvent{Scope: schemas.ScopeUser, ID: strconv.FormatInt(userID, 10), What: schemas.ControlKick, Code: code, Reason: reason})
}

func (e events) revokeDevice(deviceUUID string, code schemas.ErrorCode, reason string) {
	e.publish(schemas.ControlEvent{Scope: schemas.ScopeDevice, ID: deviceUUID, What: schemas.ControlRevoke, Code: code, Reason: reason})
}

// refreshUser asks the gateways to re-validate the user's live sessions: new limits apply at once.
func (e events) refreshUser(userID int64, reason string) {
	e.publish(schemas.ControlEvent{Scope: schemas.ScopeUser, ID: strconv.FormatInt(userID, 10), What: schemas.ControlRefresh, Reason: reason})
}

// refreshPlan asks the gateways to re-validate every live session on the plan.
func (e events) refreshPlan(planID int64, reason string) {
	e.publish(schemas.ControlEvent{Scope: schemas.ScopePlan, ID: strconv.FormatInt(planID, 10), What: schemas.ControlRefresh, Reason: reason})
}
