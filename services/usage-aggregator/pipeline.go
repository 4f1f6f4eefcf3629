package usageaggregator

import (
	"context"
	"errors"
	"fmt"
	"github.com/httvps/httvps/shared/pause"
	"hash/maphash"
	"sync"
	"time"

	"github.com/httvps/httvps/shared/jsconsume"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// pipeline fetches and decodes while its workers store; a fetch is split by session, so batches
// stored at the same time never share a session row. Acks follow the commit of each batch.
type pipeline[T any] struct {
	name     string
	consumer jetstream.Consumer
	decode   func(jetstream.Msg) (T, error)
	session  func(T) string
	handle   func(context.Context, []jsconsume.Item[T]) error
	batch    int
	wait     time.Duration
	nakDelay time.Duration
	workers  int
	log      zerolog.Logger
	metrics  *jsconsume.Metrics
}

func newPipeline[T any](s *Service, name string, c jetstream.Consumer, decode func(jetstream.Msg) (T, error),
	session func(T) string, handle func(context.Context, []jsconsume.Item[T]) error) *pipeline[T] {
	return &pipeline[T]{name: name, consumer: c, decode: decode, session: session, handle: handle, batch: s.cfg.BatchSize,
		wait: s.cfg.FetchWait, nakDelay: s.cfg.NakDelay, workers: s.cfg.Workers, log: s.log, metrics: s.m.consumer}
}

// run returns once ctx is done and the batches being stored are committed; the others are nacked.
func (p *pipeline[T]) run(ctx context.Context) error {
	queues := make([]chan []jsconsume.Item[T], p.workers)
	var wg sync.WaitGroup
	for i := range queues {
		queue := make(chan []jsconsume.Item[T], 1)
		queues[i] = queue
		wg.Go(func() {
			for items := range queue {
				if ctx.Err() != nil {
					p.settle(items, func(m jetstream.Msg) error { return m.Nak() }, "nak")
					continue
				}
				p.store(ctx, items)
			}
		})
	}
	p.fetch(ctx, queues)
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	return nil
}

func (p *pipeline[T]) fetch(ctx context.Context, queues []chan []jsconsume.Item[T]) {
	seed := maphash.MakeSeed()
	for ctx.Err() == nil {
		msgs, err := p.consumer.Fetch(p.batch, jetstream.FetchMaxWait(p.wait))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.log.Warn().Err(err).Str("consumer", p.name).Msg("fetch failed")
			pause.For(ctx, p.nakDelay)
			continue
		}
		parts := make([][]jsconsume.Item[T], len(queues))
		for msg := range msgs.Messages() {
			v, derr := p.decode(msg)
			if derr != nil {
				p.terminate(msg, derr)
				continue
			}
			i := 0
			if len(parts) > 1 {
				i = int(maphash.String(seed, p.session(v)) % uint64(len(parts)))
			}
			parts[i] = append(parts[i], jsconsume.Item[T]{Msg: msg, Value: v})
		}
		if ferr := msgs.Error(); ferr != nil && !errors.Is(ferr, jetstream.ErrNoMessages) && ctx.Err() == nil {
			p.log.Debug().Err(ferr).Str("consumer", p.name).Msg("fetch ended")
		}
		for i, items := range parts {
			if len(items) > 0 {
				queues[i] <- items
			}
		}
	}
}

func (p *pipeline[T]) store(ctx context.Context, items []jsconsume.Item[T]) {
	start := time.Now()
	err := p.handle(ctx, items)
	p.metrics.BatchSize.WithLabelValues(p.name).Observe(float64(len(items)))
	p.metrics.BatchTime.WithLabelValues(p.name).Observe(time.Since(start).Seconds())
	if err != nil {
		p.log.Error().Err(err).Str("consumer", p.name).Int("count", len(items)).Msg("batch not stored, will be redelivered")
		p.settle(items, func(m jetstream.Msg) error { return m.NakWithDelay(p.nakDelay) }, "nak")
		return
	}
	p.settle(items, jetstream.Msg.Ack, "ack")
}

func (p *pipeline[T]) settle(items []jsconsume.Item[T], fn func(jetstream.Msg) error, outcome string) {
	for _, it := range items {
		if err := fn(it.Msg); err != nil {
			p.log.Warn().Err(err).Str("consumer", p.name).Msg(outcome)
		}
	}
	p.metrics.Messages.WithLabelValues(p.name, outcome).Add(float64(len(items)))
}

func (p *pipeline[T]) terminate(msg jetstream.Msg, err error) {
	reason := fmt.Sprintf("malformed: %v", err)
	p.log.Warn().Str("consumer", p.name).Str("subject", msg.Subject()).Str("reason", reason).Msg("message terminated")
	if terr := msg.TermWithReason(reason); terr != nil {
		p.log.Warn().Err(terr).Msg("term")
	}
	p.metrics.Messages.WithLabelValues(p.name, "term").Inc()
}
