package accounting

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

const (
	retryMin = 100 * time.Millisecond
	retryMax = 2 * time.Second
)

// Publisher sends the outbox to JetStream in order per session (started, usage, ended),
// retrying until each publish is acknowledged. Nats-Msg-Id makes retries harmless.
type Publisher struct {
	out       *Outbox
	js        jetstream.JetStream
	gatewayID string
	timeout   time.Duration
	m         *metrics.Metrics
	log       zerolog.Logger
}

func NewPublisher(out *Outbox, js jetstream.JetStream, gatewayID string, timeout time.Duration, m *metrics.Metrics, log zerolog.Logger) *Publisher {
	return &Publisher{out: out, js: js, gatewayID: gatewayID, timeout: timeout, m: m, log: log}
}

// Run publishes until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	backoff := retryMin
	for {
		rec, ok := p.out.oldest()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-p.out.wake:
				continue
			}
		}
		if err := p.publish(ctx, rec); err != nil {
			if ctx.Err() != nil {
				return
			}
			p.log.Warn().Err(err).Dur("retry_in", backoff).Int("pending", p.out.Len()).Msg("usage publish failed, keeping the latest totals")
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, retryMax)
			continue
		}
		backoff = retryMin
	}
}

// Drain publishes what is left until the outbox is empty or ctx ends.
func (p *Publisher) Drain(ctx context.Context) error {
	for {
		rec, ok := p.out.oldest()
		if !ok {
			return nil
		}
		if err := p.publish(ctx, rec); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("drain usage: %d sessions left unpublished: %w", p.out.Len(), err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("drain usage: %d sessions left unpublished: %w", p.out.Len(), ctx.Err())
			case <-time.After(retryMin):
			}
		}
	}
}

func (p *Publisher) publish(ctx context.Context, rec record) error {
	if rec.started != nil {
		subject := schemas.SessionSubject(schemas.SessionStartedEvent, p.gatewayID)
		if err := p.send(ctx, metrics.OpPublishSession, subject, rec.sessionID+":started", rec.started); err != nil {
			return err
		}
		p.out.clearStarted(rec.sessionID, rec.started)
	}
	if rec.usage != nil {
		subject := schemas.UsageSubject(rec.usage.Region, p.gatewayID)
		if err := p.send(ctx, metrics.OpPublishUsage, subject, schemas.UsageMsgID(rec.sessionID, rec.usage.Seq), rec.usage); err != nil {
			return err
		}
		p.out.clearUsage(rec.sessionID, rec.usage)
	}
	if rec.ended != nil {
		subject := schemas.SessionSubject(schemas.SessionEndedEvent, p.gatewayID)
		if err := p.send(ctx, metrics.OpPublishSession, subject, rec.sessionID+":ended", rec.ended); err != nil {
			return err
		}
	}
	p.out.done(rec)
	return nil
}

func (p *Publisher) send(ctx context.Context, op, subject, msgID string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", subject, err)
	}
	msg := nats.NewMsg(subject)
	msg.Data = data
	msg.Header.Set(schemas.HeaderMsgID, msgID)
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	start := time.Now()
	_, err = p.js.PublishMsg(ctx, msg)
	p.m.NATSLatency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil {
		p.m.NATSErrors.WithLabelValues(op).Inc()
		return fmt.Errorf("publish %s: %w", subject, err)
	}
	return nil
}
