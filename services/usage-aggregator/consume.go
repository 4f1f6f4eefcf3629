package usageaggregator

import (
	"context"
	"time"

	"github.com/httvps/httvps/shared/jsconsume"
	"github.com/httvps/httvps/shared/logging"
	"github.com/uptrace/bun"
)

func (s *Service) handleUsage(ctx context.Context, items []jsconsume.Item[sessionTotals]) error {
	reports := make([]sessionTotals, len(items))
	for i, it := range items {
		reports[i] = it.Value
	}
	batch := newTotalsBatch(reports)
	var res applyResult
	err := s.inTx(ctx, opUsage, func(ctx context.Context, tx bun.Tx) error {
		var err error
		res, err = batch.apply(ctx, tx, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	s.committed(res)
	return nil
}

func (s *Service) handleSessions(ctx context.Context, items []jsconsume.Item[sessionEvent]) error {
	events := make([]sessionEvent, len(items))
	var totals []sessionTotals
	for i, it := range items {
		events[i] = it.Value
		if it.Value.Totals != nil {
			totals = append(totals, *it.Value.Totals)
		}
	}
	metas := mergeSessionMeta(events)
	batch := newTotalsBatch(totals)
	var res applyResult
	err := s.inTx(ctx, opSessions, func(ctx context.Context, tx bun.Tx) error {
		if err := upsertSessions(ctx, tx, metas); err != nil {
			return err
		}
		var err error
		res, err = batch.apply(ctx, tx, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	for _, e := range events {
		s.m.sessionEvents.WithLabelValues(string(e.Kind)).Inc()
	}
	s.committed(res)
	return nil
}

func (s *Service) committed(res applyResult) {
	s.m.record(res)
	if res.Unattributed > 0 {
		s.log.Warn().Int(logging.FieldCount, res.Unattributed).
			Msg("usage of sessions without a known user kept for later: the next report or the ended event carries the totals again")
	}
	s.publishLimits(res.LimitUsers)
}
