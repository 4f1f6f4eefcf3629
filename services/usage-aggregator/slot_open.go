package usageaggregator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/logging"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/uptrace/bun"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func checkSlotIDs(sessionID, gatewayID string) error {
	if !uuidPattern.MatchString(sessionID) {
		return rpc.Errorf(schemas.CodeInvalidArgument, "session_id: want a UUID, got %q", sessionID)
	}
	if err := schemas.ValidToken(gatewayID); err != nil {
		return rpc.Errorf(schemas.CodeInvalidArgument, "gateway_id: %v", err)
	}
	return nil
}

// openSession claims a live-session slot for the device's user and grants the first lease. A live
// session of the same device is replaced; a user at max_sessions is refused. The user's row lock
// makes the decision atomic across gateways and aggregator copies.
func (s *Service) openSession(ctx context.Context, req schemas.SessionOpenRequest) (schemas.SessionOpenReply, error) {
	if err := checkSlotIDs(req.SessionID, req.GatewayID); err != nil {
		return schemas.SessionOpenReply{}, err
	}
	if err := schemas.ValidToken(req.DeviceID); err != nil {
		return schemas.SessionOpenReply{}, rpc.Errorf(schemas.CodeInvalidArgument, "device_id: %v", err)
	}
	if req.Want < 0 {
		return schemas.SessionOpenReply{}, rpc.Errorf(schemas.CodeInvalidArgument, "want: must not be negative")
	}
	rep := schemas.SessionOpenReply{OK: true, TTLMS: s.ttlMS()}
	var kick []string
	refusal, err := s.slotTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		rep.Lease, rep.Replaced, kick, err = s.claim(ctx, tx, req)
		return err
	})
	if err != nil {
		return schemas.SessionOpenReply{}, err
	}
	if refusal != nil {
		s.slotMetrics.refused.WithLabelValues(string(refusal.Code), string(refusal.Limit)).Inc()
		return schemas.SessionOpenReply{Error: refusal}, nil
	}
	s.slotMetrics.opened.Inc()
	for _, id := range kick {
		s.publishReplaced(id)
	}
	return rep, nil
}

func (s *Service) claim(ctx context.Context, tx bun.Tx, req schemas.SessionOpenRequest) (*schemas.LeaseGrant, []string, []string, error) {
	var userID int64
	err := tx.QueryRowContext(ctx, deviceOwnerSQL, req.DeviceID).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil, refuse(schemas.CodeDeviceNotFound, "", "device %s not found", req.DeviceID)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read device owner: %w", err)
	}
	if err := lockUser(ctx, tx, userID); err != nil {
		return nil, nil, nil, err
	}
	if slot, ok, err := readSlot(ctx, tx, req.SessionID); err != nil || ok {
		if err == nil && (slot.gateway != req.GatewayID || slot.userID != userID) {
			err = refuse(schemas.CodeConflict, "", "session %s belongs to another gateway or device", req.SessionID)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		lim, err := readLimits(ctx, tx, userID)
		return &schemas.LeaseGrant{Unlimited: !lim.traffic.Valid, Granted: slot.granted}, nil, nil, err
	}
	lim, err := readLimits(ctx, tx, userID)
	if err != nil {
		return nil, nil, nil, err
	}
	replaced, kick, err := replaceDevice(ctx, tx, req.DeviceID, req.SessionID)
	if err != nil {
		return nil, nil, nil, err
	}
	live, err := liveSlots(ctx, tx, userID, req.SessionID)
	if err != nil {
		return nil, nil, nil, err
	}
	if int64(live) >= lim.maxSessions {
		return nil, nil, nil, refuse(schemas.CodeLimitReached, schemas.LimitSessions,
			"%d live sessions, the most plan %s allows", live, lim.plan)
	}
	lease := &schemas.LeaseGrant{Unlimited: !lim.traffic.Valid}
	if !lease.Unlimited {
		avail, err := available(ctx, tx, userID, lim.traffic.Int64, "", 0)
		if err != nil {
			return nil, nil, nil, err
		}
		// a new session needs at least one minimal lease: a few bytes left over are no session
		if avail < min(s.cfg.LeaseMin, max(req.Want, 1)) {
			return nil, nil, nil, refuse(schemas.CodeLimitReached, schemas.LimitTraffic,
				"traffic limit of %d bytes reached this month (%d left)", lim.traffic.Int64, max(avail, 0))
		}
		lease.Granted = grantSize(req.Want, avail, s.cfg.LeaseMin, live+1)
	}
	if _, err := tx.ExecContext(ctx, insertSlotSQL, req.SessionID, userID, req.DeviceID, req.GatewayID, lease.Granted, s.ttlSeconds()); err != nil {
		return nil, nil, nil, fmt.Errorf("insert slot: %w", err)
	}
	return lease, replaced, kick, nil
}

// replaceDevice closes the device's open slot; kick lists the replaced sessions still alive.
func replaceDevice(ctx context.Context, tx bun.Tx, deviceUUID, except string) (replaced, kick []string, err error) {
	rows, err := tx.QueryContext(ctx, replaceDeviceSQL, deviceUUID, except)
	if err != nil {
		return nil, nil, fmt.Errorf("replace device slot: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var live bool
		if err := rows.Scan(&id, &live); err != nil {
			return nil, nil, fmt.Errorf("replace device slot: scan: %w", err)
		}
		replaced = append(replaced, id)
		if live {
			kick = append(kick, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("replace device slot: %w", err)
	}
	return replaced, kick, nil
}

type slot struct {
	userID  int64
	gateway string
	granted int64
	closed  bool
	live    bool
}

func readSlot(ctx context.Context, tx bun.Tx, sessionID string) (slot, bool, error) {
	var sl slot
	err := tx.QueryRowContext(ctx, slotSQL, sessionID).Scan(&sl.userID, &sl.gateway, &sl.granted, &sl.closed, &sl.live)
	if errors.Is(err, sql.ErrNoRows) {
		return sl, false, nil
	}
	if err != nil {
		return sl, false, fmt.Errorf("read slot: %w", err)
	}
	return sl, true, nil
}

func (s *Service) publishReplaced(sessionID string) {
	ev := schemas.ControlEvent{
		Scope: schemas.ScopeSession, ID: sessionID, What: schemas.ControlKick,
		Code: schemas.CodeSessionReplaced, Reason: "replaced by a new session of the same device", IssuedAt: utcNow(),
	}
	if err := s.publishControl(ev); err != nil {
		s.m.publishErrors.WithLabelValues(publishReplacedKind).Inc()
		s.log.Error().Err(err).Str(logging.FieldSession, sessionID).Msg("publish session replaced")
	}
}
