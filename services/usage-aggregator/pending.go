package usageaggregator

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func (s *Service) pollPending(ctx context.Context, consumers ...jetstream.Consumer) error {
	t := time.NewTicker(s.cfg.PendingInterval)
	defer t.Stop()
	for {
		for _, c := range consumers {
			s.updatePending(ctx, c)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Service) updatePending(parent context.Context, c jetstream.Consumer) {
	ctx, cancel := context.WithTimeout(parent, s.cfg.RequestTimeout)
	defer cancel()
	info, err := c.Info(ctx)
	if err != nil {
		if parent.Err() == nil {
			s.log.Debug().Err(err).Msg("consumer info")
		}
		return
	}
	s.m.pending.WithLabelValues(info.Name).Set(float64(info.NumPending))
}
