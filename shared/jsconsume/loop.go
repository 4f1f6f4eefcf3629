// Package jsconsume runs batched JetStream pull consumers that ack only after the batch is stored.
package jsconsume

import (
	"context"
	"errors"
	"fmt"
	"github.com/httvps/httvps/shared/pause"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

type Item[T any] struct {
	Msg   jetstream.Msg
	Value T
}

type Loop[T any] struct {
	Name      string
	Consumer  jetstream.Consumer
	Decode    func(msg jetstream.Msg) (T, error)
	Handle    func(ctx context.Context, items []Item[T]) error
	BatchSize int
	MaxWait   time.Duration
	NakDelay  time.Duration
	Log       zerolog.Logger
	Metrics   *Metrics
}

type Options struct {
	BatchSize int
	MaxWait   time.Duration
	NakDelay  time.Duration
	Log       zerolog.Logger
	Metrics   *Metrics
}

// New makes the loop of consumer c; name labels its logs and metrics.
func New[T any](name string, c jetstream.Consumer, decode func(jetstream.Msg) (T, error), handle func(context.Context, []Item[T]) error, o Options) *Loop[T] {
	return &Loop[T]{
		Name: name, Consumer: c, Decode: decode, Handle: handle,
		BatchSize: o.BatchSize, MaxWait: o.MaxWait, NakDelay: o.NakDelay, Log: o.Log, Metrics: o.Metrics,
	}
}

// Open looks up the durable consumer on stream and makes its loop, named after the durable.
func Open[T any](ctx context.Context, js jetstream.JetStream, stream, durable string, decode func(jetstream.Msg) (T, error),
	handle func(context.Context, []Item[T]) error, o Options) (*Loop[T], error) {
	c, err := js.Consumer(ctx, stream, durable)
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", durable, stream, err)
	}
	return New(durable, c, decode, handle, o), nil
}

func (l *Loop[T]) Run(ctx context.Context) error {
	batch, wait, delay := l.BatchSize, l.MaxWait, l.NakDelay
	if batch <= 0 {
		batch = 500
	}
	if wait <= 0 {
		wait = time.Second
	}
	if delay <= 0 {
		delay = time.Second
	}
	for ctx.Err() == nil {
		msgs, err := l.Consumer.Fetch(batch, jetstream.FetchMaxWait(wait))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			l.Log.Warn().Err(err).Str("consumer", l.Name).Msg("fetch failed")
			pause.For(ctx, delay)
			continue
		}
		var items []Item[T]
		for msg := range msgs.Messages() {
			v, derr := l.Decode(msg)
			if derr != nil {
				l.terminate(msg, derr)
				continue
			}
			items = append(items, Item[T]{Msg: msg, Value: v})
		}
		if ferr := msgs.Error(); ferr != nil && !errors.Is(ferr, jetstream.ErrNoMessages) && ctx.Err() == nil {
			l.Log.Debug().Err(ferr).Str("consumer", l.Name).Msg("fetch ended")
		}
		if len(items) == 0 {
			continue
		}
		l.process(ctx, items, delay)
	}
	return nil
}

func (l *Loop[T]) process(ctx context.Context, items []Item[T], delay time.Duration) {
	start := time.Now()
	err := l.Handle(ctx, items)
	l.Metrics.observeBatch(l.Name, len(items), time.Since(start))
	if err != nil {
		l.Log.Error().Err(err).Str("consumer", l.Name).Int("count", len(items)).Msg("batch not stored, will be redelivered")
		for _, it := range items {
			if nerr := it.Msg.NakWithDelay(delay); nerr != nil {
				l.Log.Warn().Err(nerr).Msg("nak")
			}
		}
		l.Metrics.add(l.Name, "nak", len(items))
		return
	}
	for _, it := range items {
		if aerr := it.Msg.Ack(); aerr != nil {
			l.Log.Warn().Err(aerr).Msg("ack")
		}
	}
	l.Metrics.add(l.Name, "ack", len(items))
}

func (l *Loop[T]) terminate(msg jetstream.Msg, err error) {
	reason := fmt.Sprintf("malformed: %v", err)
	l.Log.Warn().Str("consumer", l.Name).Str("subject", msg.Subject()).Str("reason", reason).Msg("message terminated")
	if terr := msg.TermWithReason(reason); terr != nil {
		l.Log.Warn().Err(terr).Msg("term")
	}
	l.Metrics.add(l.Name, "term", 1)
}
