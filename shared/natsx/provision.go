package natsx

import (
	"context"
	"errors"
	"fmt"
	"reflect"
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

// Provision creates or updates every stream and durable consumer of c; running it again changes
// nothing.
func Provision(ctx context.Context, js jetstream.JetStream, c StreamsConfig) error {
	_, err := ProvisionSteps(ctx, js, c)
	return err
}

// ProvisionSteps is Provision that also says what it did to each stream and consumer, in order;
// on an error it returns the steps done before it.
func ProvisionSteps(ctx context.Context, js jetstream.JetStream, c StreamsConfig) ([]Step, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	var steps []Step
	for _, sc := range c.Streams() {
		step, err := provisionStream(ctx, js, sc)
		if err != nil {
			return steps, fmt.Errorf("provision: stream %s: %w", sc.Name, err)
		}
		steps = append(steps, step)
	}
	for _, cs := range c.Consumers() {
		step, err := provisionConsumer(ctx, js, cs)
		if err != nil {
			return steps, fmt.Errorf("provision: consumer %s on %s: %w", cs.Config.Durable, cs.Stream, err)
		}
		steps = append(steps, step)
	}
	return steps, nil
}

func provisionStream(ctx context.Context, js jetstream.JetStream, sc jetstream.StreamConfig) (Step, error) {
	step := Step{Kind: KindStream, Stream: sc.Name, Name: sc.Name}
	var before *jetstream.StreamConfig
	if st, err := js.Stream(ctx, sc.Name); err == nil {
		cfg := st.CachedInfo().Config
		before = &cfg
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return step, err
	}
	st, err := js.CreateOrUpdateStream(ctx, sc)
	if err != nil {
		return step, err
	}
	after := st.CachedInfo().Config
	step.Replicas, step.Action = after.Replicas, changed(before, after)
	return step, nil
}

// provisionConsumer creates or updates a durable. A durable of an older release whose filter
// the server will not change in place is recreated: it reads its stream again, which its
// consumers apply idempotently.
func provisionConsumer(ctx context.Context, js jetstream.JetStream, cs ConsumerSpec) (Step, error) {
	step := Step{Kind: KindConsumer, Stream: cs.Stream, Name: cs.Config.Durable}
	var before *jetstream.ConsumerConfig
	if c, err := js.Consumer(ctx, cs.Stream, cs.Config.Durable); err == nil {
		cfg := c.CachedInfo().Config
		before = &cfg
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return step, err
	}
	c, err := js.CreateOrUpdateConsumer(ctx, cs.Stream, cs.Config)
	if errors.Is(err, jetstream.ErrConsumerMultipleFilterSubjectsNotSupported) {
		if err := js.DeleteConsumer(ctx, cs.Stream, cs.Config.Durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return step, err
		}
		c, err = js.CreateConsumer(ctx, cs.Stream, cs.Config)
		if err != nil {
			return step, err
		}
		step.Replicas, step.Action = c.CachedInfo().Config.Replicas, ActionRecreated
		return step, nil
	}
	if err != nil {
		return step, err
	}
	after := c.CachedInfo().Config
	step.Replicas, step.Action = after.Replicas, changed(before, after)
	return step, nil
}

func changed[T any](before *T, after T) string {
	switch {
	case before == nil:
		return ActionCreated
	case reflect.DeepEqual(*before, after):
		return ActionUnchanged
	}
	return ActionUpdated
}
