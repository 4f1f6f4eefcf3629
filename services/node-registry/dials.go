package noderegistry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/node-registry/internal/store"
	"github.com/httvps/httvps/shared/logging"
	"github.com/nats-io/nats.go"
)

const maxDialNodes = 1000

var dialsPrefix = strings.TrimSuffix(schemas.SubjectOutlineDialsAll, "*")

// subscribeDials takes the gateways' dial reports (passive health), one copy of the service
// per report through the queue group.
func (s *Service) subscribeDials(ctx context.Context) (*nats.Subscription, error) {
	sub, err := s.nc.QueueSubscribe(schemas.SubjectOutlineDialsAll, schemas.ServiceNodeRegistry, func(msg *nats.Msg) {
		s.handleDialReport(ctx, msg.Subject, msg.Data)
	})
	if err != nil {
		return nil, fmt.Errorf("node-registry: subscribe %s: %w", schemas.SubjectOutlineDialsAll, err)
	}
	return sub, nil
}

func decodeDialReport(subject string, data []byte) (schemas.OutlineDialReport, error) {
	var r schemas.OutlineDialReport
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("dial report: %w", err)
	}
	switch {
	case !validName(r.GatewayID):
		return r, fmt.Errorf("dial report: gateway_id %q must be 1 to 64 letters, digits, '-' or '_'", r.GatewayID)
	case subject != schemas.OutlineDialsSubject(r.GatewayID):
		return r, fmt.Errorf("dial report: gateway_id %q does not match subject %s", r.GatewayID, subject)
	case len(r.Nodes) > maxDialNodes:
		return r, fmt.Errorf("dial report: at most %d nodes", maxDialNodes)
	}
	for _, n := range r.Nodes {
		if n.NodeID <= 0 || n.Failures < 0 || n.Successes < 0 {
			return r, errors.New("dial report: node_id must be positive, failures and successes not negative")
		}
	}
	return r, nil
}

func (s *Service) handleDialReport(ctx context.Context, subject string, data []byte) {
	r, err := decodeDialReport(subject, data)
	if err != nil {
		s.metrics.events.WithLabelValues(consumerDials, resultInvalid).Inc()
		s.log.Warn().Err(err).Str(logging.FieldSubject, subject).Msg("dial report dropped")
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.DBTimeout)
	defer cancel()
	rule := s.dialRule()
	var changes []store.DialChange
	results := map[string]int{}
	err = s.store.InTx(ctx, func(ctx context.Context, tx *store.Store) error {
		changes, results = nil, map[string]int{}
		for _, n := range r.Nodes {
			change, known, err := tx.ApplyDialCount(ctx, r.GatewayID, store.DialCount{
				NodeID: n.NodeID, Failures: n.Failures, Successes: n.Successes, LastOK: n.LastOK, LastError: n.LastError,
			}, rule)
			if err != nil {
				return err
			}
			switch {
			case !known:
				results[resultUnknownNode]++
			case change != nil:
				changes = append(changes, *change)
				results[resultApplied]++
			default:
				results[resultApplied]++
			}
		}
		return nil
	})
	if err != nil {
		s.metrics.dbErrors.WithLabelValues("store dial report").Inc()
		s.log.Error().Err(err).Str(logging.FieldGateway, r.GatewayID).Msg("store dial report")
		return
	}
	for result, n := range results {
		s.metrics.events.WithLabelValues(consumerDials, result).Add(float64(n))
	}
	s.announceDialChanges(changes, r.GatewayID)
}

func (s *Service) dialRule() store.DialRule {
	return store.DialRule{Failures: s.cfg.DialFailures, Window: s.cfg.DialWindow}
}

func (s *Service) announceDialChanges(changes []store.DialChange, gateway string) {
	for _, c := range changes {
		log := s.log.With().Int64(logging.FieldNode, c.NodeID).Logger()
		if gateway != "" {
			log = log.With().Str(logging.FieldGateway, gateway).Logger()
		}
		if !c.Down {
			log.Info().Msg("outline node answers gateways again, assigned again")
			continue
		}
		log.Warn().Str(logging.FieldReason, c.Error).Msg("gateways cannot connect to outline node, taken out of assignment")
		s.moveSessionsOff(c.NodeID, sourceDials, c.Error)
	}
}
