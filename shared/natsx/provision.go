package natsx

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

type StreamsConfig struct {
	Replicas        int
	DuplicateWindow time.Duration
	UsageMaxAge     time.Duration
	SessionsMaxAge  time.Duration
	ControlMaxAge   time.Duration
	AckWait         time.Duration
	MaxDeliver      int
	MaxAckPending   int
}

func DefaultStreams() StreamsConfig {
	return StreamsConfig{
		Replicas:        1,
		DuplicateWindow: 10 * time.Minute,
		UsageMaxAge:     7 * 24 * time.Hour,
		SessionsMaxAge:  7 * 24 * time.Hour,
		ControlMaxAge:   24 * time.Hour,
		AckWait:         30 * time.Second,
		MaxDeliver:      -1,
		MaxAckPending:   20000,
	}
}

func (c StreamsConfig) Streams() []jetstream.StreamConfig {
	return []jetstream.StreamConfig{
		{
			Name:        schemas.StreamUsage,
			Description: "per-session cumulative usage reports from gateways",
			Subjects:    []string{schemas.SubjectUsageAll},
			Storage:     jetstream.FileStorage,
			Replicas:    c.Replicas,
			Duplicates:  c.DuplicateWindow,
			MaxAge:      c.UsageMaxAge,
		},
		{
			Name:        schemas.StreamSessions,
			Description: "session started and ended events",
			Subjects:    []string{schemas.SubjectSessionAll},
			Storage:     jetstream.FileStorage,
			Replicas:    c.Replicas,
			Duplicates:  c.DuplicateWindow,
			MaxAge:      c.SessionsMaxAge,
		},
		{
			Name:              schemas.StreamHeartbeats,
			Description:       "latest heartbeat of every gateway and outline node",
			Subjects:          []string{schemas.SubjectHeartbeatAll},
			Storage:           jetstream.FileStorage,
			Replicas:          c.Replicas,
			MaxMsgsPerSubject: 1,
			Duplicates:        time.Minute,
		},
		{
			Name:        schemas.StreamControl,
			Description: "kicks, revokes, bans and limit changes; gateways replay what they missed",
			Subjects:    []string{schemas.SubjectControlAll},
			Storage:     jetstream.FileStorage,
			Replicas:    c.Replicas,
			Duplicates:  c.DuplicateWindow,
			MaxAge:      c.ControlMaxAge,
		},
	}
}

type ConsumerSpec struct {
	Stream string
	Config jetstream.ConsumerConfig
}

func (c StreamsConfig) Consumers() []ConsumerSpec {
	durable := func(stream, name, desc string, filters ...string) ConsumerSpec {
		return ConsumerSpec{Stream: stream, Config: jetstream.ConsumerConfig{
			Durable:        name,
			Description:    desc,
			AckPolicy:      jetstream.AckExplicitPolicy,
			DeliverPolicy:  jetstream.DeliverAllPolicy,
			AckWait:        c.AckWait,
			MaxDeliver:     c.MaxDeliver,
			MaxAckPending:  c.MaxAckPending,
			FilterSubjects: filters,
			Replicas:       c.Replicas,
		}}
	}
	return []ConsumerSpec{
		durable(schemas.StreamUsage, schemas.ConsumerUsageAggregator, "usage-aggregator: usage reports into PostgreSQL"),
		durable(schemas.StreamSessions, schemas.ConsumerSessionsAggregator, "usage-aggregator: session rows",
			schemas.SubjectSessionStartedAll, schemas.SubjectSessionEndedAll),
		durable(schemas.StreamSessions, schemas.ConsumerSessionsRegistry, "node-registry: active sessions per outline node",
			schemas.SubjectSessionStartedAll, schemas.SubjectSessionEndedAll),
		durable(schemas.StreamSessions, schemas.ConsumerBootsAggregator, "usage-aggregator: sessions of older gateway boots",
			schemas.SubjectSessionBootAll),
		durable(schemas.StreamHeartbeats, schemas.ConsumerHeartbeatsRegistry, "node-registry: gateway and outline health"),
	}
}

func (c StreamsConfig) Validate() error {
	if c.Replicas != 1 && c.Replicas != 3 {
		return fmt.Errorf("replicas must be 1 or 3, got %d", c.Replicas)
	}
	if c.DuplicateWindow <= 0 {
		return fmt.Errorf("duplicate window must be positive")
	}
	return nil
}

func Provision(ctx context.Context, js jetstream.JetStream, c StreamsConfig) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	for _, sc := range c.Streams() {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("provision: stream %s: %w", sc.Name, err)
		}
	}
	for _, cs := range c.Consumers() {
		if err := provisionConsumer(ctx, js, cs); err != nil {
			return fmt.Errorf("provision: consumer %s on %s: %w", cs.Config.Durable, cs.Stream, err)
		}
	}
	return nil
}

// provisionConsumer creates or updates a durable. A durable of an older release whose filter
// the server will not change in place is recreated: it reads its stream again, which its
// consumers apply idempotently.
func provisionConsumer(ctx context.Context, js jetstream.JetStream, cs ConsumerSpec) error {
	_, err := js.CreateOrUpdateConsumer(ctx, cs.Stream, cs.Config)
	if !errors.Is(err, jetstream.ErrConsumerMultipleFilterSubjectsNotSupported) {
		return err
	}
	if err := js.DeleteConsumer(ctx, cs.Stream, cs.Config.Durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return err
	}
	_, err = js.CreateConsumer(ctx, cs.Stream, cs.Config)
	return err
}
