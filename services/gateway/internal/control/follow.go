package control

import (
	"context"
	"encoding/json"
	"github.com/httvps/httvps/shared/pause"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/logging"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	followRetryMin = 100 * time.Millisecond
	followRetryMax = 2 * time.Second
	// pullExpiry bounds how long a lost consumer goes unnoticed (its heartbeats are half of it).
	pullExpiry = 10 * time.Second
)

// follow reads the CONTROL stream from the boot on. The ordered consumer is recreated after
// a reconnect from the sequence after the last event seen, so nothing published meanwhile is
// missed; until it first exists (JetStream unreachable at boot) creation is retried.
func (c *Control) follow(ctx context.Context) {
	since := c.cfg.Since
	backoff := followRetryMin
	for ctx.Err() == nil {
		cons, err := c.js.OrderedConsumer(ctx, schemas.StreamControl, jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartTimePolicy,
			OptStartTime:  &since,
		})
		if err == nil {
			var cc jetstream.ConsumeContext
			cc, err = cons.Consume(c.handle, jetstream.PullExpiry(pullExpiry), jetstream.ConsumeErrHandler(c.consumeError))
			if err == nil {
				c.log.Info().Time("since", since).Msg("following control events")
				<-ctx.Done()
				cc.Stop()
				return
			}
		}
		c.log.Warn().Err(err).Dur("retry_in", backoff).Msg("control stream not followed yet")
		if !pause.For(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, followRetryMax)
	}
}

func (c *Control) consumeError(_ jetstream.ConsumeContext, err error) {
	c.log.Debug().Err(err).Msg("control consumer")
}

func (c *Control) handle(msg jetstream.Msg) {
	var ev schemas.ControlEvent
	if err := json.Unmarshal(msg.Data(), &ev); err != nil {
		c.m.events.WithLabelValues(outcomeUnreadable).Inc()
		c.log.Warn().Err(err).Str(logging.FieldSubject, msg.Subject()).Msg("unreadable control event")
		return
	}
	if ev.Scope == schemas.ScopeOutlineNode {
		moveOff(ev, msg.Subject(), c.nodes, c.log)
		return
	}
	n := c.sessions.Control(ev, c.cfg.GatewayID)
	if n == 0 {
		c.m.events.WithLabelValues(outcomeNoSession).Inc()
		return
	}
	c.m.events.WithLabelValues(outcomeEnded).Inc()
	c.m.ended.WithLabelValues(sourceEvent).Add(float64(n))
	c.log.Info().Str(logging.FieldSubject, msg.Subject()).Str(logging.FieldCode, string(ev.Code)).
		Int(logging.FieldCount, n).Msg("control event ended sessions")
}
