package usageaggregator

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/uptrace/bun"
)

const publishReplacedKind = "replaced"

// lease grants a live session more traffic from what remains of its user's quota.
func (s *Service) lease(ctx context.Context, req schemas.LeaseRequest) (schemas.LeaseReply, error) {
	if err := checkSlotIDs(req.SessionID, req.GatewayID); err != nil {
		return schemas.LeaseReply{}, err
	}
	if req.Used < 0 || req.Held < 0 || req.Want < 0 {
		return schemas.LeaseReply{}, rpc.Errorf(schemas.CodeInvalidArgument, "used, held and want must not be negative")
	}
	var grant *schemas.LeaseGrant
	refusal, err := s.slotTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		grant, err = s.grant(ctx, tx, req)
		return err
	})
	if err != nil {
		return schemas.LeaseReply{}, err
	}
	if refusal != nil {
		return schemas.LeaseReply{Error: refusal}, nil
	}
	if grant.Exhausted {
		s.slotMetrics.exhausted.Inc()
	}
	return schemas.LeaseReply{OK: true, Lease: grant}, nil
}

func (s *Service) grant(ctx context.Context, tx bun.Tx, req schemas.LeaseRequest) (*schemas.LeaseGrant, error) {
	sl, ok, err := readSlot(ctx, tx, req.SessionID)
	if err != nil {
		return nil, err
	}
	if ok {
		if err := lockUser(ctx, tx, sl.userID); err != nil {
			return nil, err
		}
		sl, ok, err = readSlot(ctx, tx, req.SessionID)
	}
	switch {
	case err != nil:
		return nil, err
	case !ok || sl.gateway != req.GatewayID:
		return nil, refuse(schemas.CodeSessionKicked, "", "session %s holds no slot of gateway %s", req.SessionID, req.GatewayID)
	case sl.closed:
		return nil, refuse(schemas.CodeSessionReplaced, "", "session %s was replaced by a new session of its device", req.SessionID)
	case !sl.live:
		return nil, refuse(schemas.CodeSessionKicked, "", "the slot of session %s expired: its gateway stopped renewing it", req.SessionID)
	}
	lim, err := readLimits(ctx, tx, sl.userID)
	if err != nil {
		return nil, err
	}
	g := &schemas.LeaseGrant{Unlimited: !lim.traffic.Valid, Granted: sl.granted}
	if !g.Unlimited {
		avail, err := available(ctx, tx, sl.userID, lim.traffic.Int64, req.SessionID, req.Used)
		if err != nil {
			return nil, err
		}
		switch {
		case avail < 0 && sl.granted > req.Used:
			// the limit fell below what the leases hold: this session gives back its unused part
			g.Granted = max(req.Used, sl.granted+avail)
			g.Exhausted = true
			s.slotMetrics.revoked.Inc()
		case sl.granted <= req.Held:
			live, err := liveSlots(ctx, tx, sl.userID, req.SessionID)
			if err != nil {
				return nil, err
			}
			add := grantSize(req.Want, avail, s.cfg.LeaseMin, live+1)
			// a session that was unlimited until now holds no grant for what it already moved:
			// committed counted it, so the grant starts from it
			g.Granted = max(g.Granted, req.Used) + add
			g.Exhausted = add == 0 && req.Want > 0
		}
	}
	if _, err := tx.ExecContext(ctx, grantSQL, g.Granted, req.Used, s.ttlSeconds(), req.SessionID); err != nil {
		return nil, fmt.Errorf("store grant: %w", err)
	}
	return g, nil
}

// closeSession frees the slot; an unknown session is already free.
func (s *Service) closeSession(ctx context.Context, req schemas.SessionCloseRequest) (schemas.SlotReply, error) {
	if err := checkSlotIDs(req.SessionID, req.GatewayID); err != nil {
		return schemas.SlotReply{}, err
	}
	if req.Used < 0 {
		return schemas.SlotReply{}, rpc.Errorf(schemas.CodeInvalidArgument, "used: must not be negative")
	}
	refusal, err := s.slotTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, closeSlotSQL, req.Used, req.Used, s.ttlSeconds(), req.SessionID, req.GatewayID)
		return err
	})
	if err != nil {
		return schemas.SlotReply{}, err
	}
	if refusal != nil {
		return schemas.SlotReply{Error: refusal}, nil
	}
	s.slotMetrics.closed.Inc()
	return schemas.SlotReply{OK: true}, nil
}

const maxKeepalive = 10000

// keepalive renews the slots and leases of a gateway's live sessions.
func (s *Service) keepalive(ctx context.Context, req schemas.KeepaliveRequest) (schemas.KeepaliveReply, error) {
	if err := schemas.ValidToken(req.GatewayID); err != nil {
		return schemas.KeepaliveReply{}, rpc.Errorf(schemas.CodeInvalidArgument, "gateway_id: %v", err)
	}
	if len(req.SessionIDs) > maxKeepalive {
		return schemas.KeepaliveReply{}, rpc.Errorf(schemas.CodeInvalidArgument, "session_ids: at most %d per request", maxKeepalive)
	}
	for _, id := range req.SessionIDs {
		if !uuidPattern.MatchString(id) {
			return schemas.KeepaliveReply{}, rpc.Errorf(schemas.CodeInvalidArgument, "session_ids: want UUIDs, got %q", id)
		}
	}
	known := map[string]bool{}
	refusal, err := s.slotTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// closed slots count as known: their sessions hear of it from their own event (replaced)
		if err := collectIDs(ctx, tx, known, "keepalive", keepaliveSQL, s.ttlSeconds(), pgArray(req.SessionIDs), req.GatewayID); err != nil {
			return err
		}
		return collectIDs(ctx, tx, known, "keepalive: closed slots", closedSlotsSQL, pgArray(req.SessionIDs))
	})
	if err != nil {
		return schemas.KeepaliveReply{}, err
	}
	if refusal != nil {
		return schemas.KeepaliveReply{Error: refusal}, nil
	}
	rep := schemas.KeepaliveReply{OK: true}
	for _, id := range req.SessionIDs {
		if !known[id] {
			rep.Unknown = append(rep.Unknown, id)
		}
	}
	return rep, nil
}

// collectIDs adds the ids the query returns to into.
func collectIDs(ctx context.Context, tx bun.Tx, into map[string]bool, op, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("%s: scan: %w", op, err)
		}
		into[id] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

func (s *Service) publishControl(ev schemas.ControlEvent) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode control event: %w", err)
	}
	if err := s.nc.Publish(ev.Subject(), data); err != nil {
		return fmt.Errorf("publish %s: %w", ev.Subject(), err)
	}
	return nil
}
