package noderegistry

import (
	"context"
	"errors"
	"time"

	"github.com/httvps/httvps/shared/logging"
)

func (s *Service) runSweeper(ctx context.Context) {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		s.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep marks silent nodes offline, ends the sessions of offline gateways, purges old session
// tombstones and refreshes the node gauges. Each step is one statement, so copies of the
// service running at once do no harm.
func (s *Service) sweep(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DBTimeout)
	defer cancel()
	offlineAfter := s.cfg.OfflineAfter()

	if names, err := s.store.MarkSilentGatewaysOffline(ctx, offlineAfter); err != nil {
		s.sweepFailed(ctx, "mark gateways offline", err)
	} else {
		for _, name := range names {
			s.log.Warn().Str(logging.FieldGateway, name).Dur(fieldOfflineAfter, offlineAfter).Msg("gateway missed heartbeats, marked offline")
		}
		s.metrics.offline.WithLabelValues(kindGateway).Add(float64(len(names)))
	}
	if ids, err := s.store.MarkSilentOutlineNodesOffline(ctx, offlineAfter); err != nil {
		s.sweepFailed(ctx, "mark outline nodes offline", err)
	} else {
		for _, id := range ids {
			s.log.Warn().Int64(logging.FieldNode, id).Dur(fieldOfflineAfter, offlineAfter).Msg("outline node missed heartbeats, marked offline")
			s.moveSessionsOff(id, sourceSweeper, "its agent missed heartbeats for "+offlineAfter.String())
		}
		s.metrics.offline.WithLabelValues(kindOutline).Add(float64(len(ids)))
	}
	if changes, err := s.store.ClearStaleDialMarks(ctx, s.dialRule()); err != nil {
		s.sweepFailed(ctx, "clear stale dial marks", err)
	} else {
		s.announceDialChanges(changes, "")
	}
	if n, err := s.store.EndSessionsOfOfflineGateways(ctx); err != nil {
		s.sweepFailed(ctx, "end sessions of offline gateways", err)
	} else if n > 0 {
		s.log.Info().Int64(logging.FieldCount, n).Msg("ended the sessions of offline gateways")
	}
	if _, err := s.store.PurgeTombstones(ctx, s.cfg.TombstoneTTL); err != nil {
		s.sweepFailed(ctx, "purge ended sessions", err)
	}
	s.refreshNodeGauges(ctx)
	s.metrics.sweeps.Inc()
}

func (s *Service) sweepFailed(ctx context.Context, op string, err error) {
	if errors.Is(ctx.Err(), context.Canceled) {
		return
	}
	s.metrics.dbErrors.WithLabelValues(op).Inc()
	s.log.Error().Err(err).Str(logging.FieldComponent, "sweeper").Msg(op + " failed")
}

func (s *Service) refreshNodeGauges(ctx context.Context) {
	counts, err := s.store.CountNodesByStatus(ctx)
	if err != nil {
		s.sweepFailed(ctx, "count nodes", err)
		return
	}
	for _, st := range gatewayStatuses {
		s.metrics.nodes.WithLabelValues(kindGateway, st).Set(0)
	}
	for _, st := range healthStatuses {
		s.metrics.nodes.WithLabelValues(kindOutline, st).Set(0)
	}
	for _, c := range counts {
		s.metrics.nodes.WithLabelValues(c.Kind, c.Status).Set(float64(c.Count))
	}
}
