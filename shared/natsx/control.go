package natsx

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PublishControl stores a control event in the CONTROL stream and waits for the ack, so a
// gateway that is away when it happens still gets it. IssuedAt is set when zero; the message id
// makes a retry of the same event harmless.
func PublishControl(ctx context.Context, js jetstream.JetStream, ev schemas.ControlEvent, timeout time.Duration) (schemas.ControlEvent, error) {
	if ev.IssuedAt.IsZero() {
		ev.IssuedAt = time.Now().UTC()
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return ev, fmt.Errorf("encode control event: %w", err)
	}
	msg := nats.NewMsg(ev.Subject())
	msg.Data = data
	msg.Header.Set(schemas.HeaderMsgID, schemas.ControlMsgID(ev))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		return ev, fmt.Errorf("publish %s: %w", msg.Subject, err)
	}
	return ev, nil
}
