package noderegistry

import (
	"context"
	"errors"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/node-registry/internal/store"
	"github.com/httvps/httvps/shared/admin"
	"github.com/httvps/httvps/shared/logging"
	"github.com/httvps/httvps/shared/rpc"
)

func validateAssign(req schemas.AssignOutlineRequest) error {
	switch {
	case req.Region == "":
		return admin.Invalid("region: required")
	case !validName(req.Region):
		return admin.Invalid("region: %q cannot be a region code (1 to 64 letters, digits, '-' or '_')", req.Region)
	case req.UserID <= 0:
		return admin.Invalid("user_id: must be a positive id")
	case !validName(req.DeviceID):
		return admin.Invalid("device_id: must be 1 to 64 letters, digits, '-' or '_'")
	case len(req.ExcludeNodeIDs) > maxExcludedIDs:
		return admin.Invalid("exclude_node_ids: at most %d ids", maxExcludedIDs)
	}
	return nil
}

func refuse(code schemas.ErrorCode, msg string) schemas.AssignOutlineReply {
	return schemas.AssignOutlineReply{Error: &schemas.RPCError{Code: code, Message: msg}}
}

func (s *Service) assignOutline(ctx context.Context, req schemas.AssignOutlineRequest) (schemas.AssignOutlineReply, error) {
	if err := validateAssign(req); err != nil {
		return schemas.AssignOutlineReply{}, err
	}
	a, err := s.store.PickOutlineNode(ctx, req.Region, req.ExcludeNodeIDs, s.cfg.ConnsPerSession)
	switch {
	case errors.Is(err, store.ErrRegionUnknown):
		s.metrics.assignments.WithLabelValues(string(schemas.CodeRegionUnknown)).Inc()
		return refuse(schemas.CodeRegionUnknown, "region "+req.Region+" is unknown"), nil
	case errors.Is(err, store.ErrNoCapacity):
		s.metrics.assignments.WithLabelValues(string(schemas.CodeNoCapacity)).Inc()
		s.log.Warn().Str(logging.FieldRegion, req.Region).Int(logging.FieldCount, len(req.ExcludeNodeIDs)).
			Msg("no outline node with free capacity")
		return refuse(schemas.CodeNoCapacity, "no healthy outline node with free capacity in region "+req.Region), nil
	case err != nil:
		s.metrics.dbErrors.WithLabelValues("assign outline").Inc()
		s.log.Error().Err(err).Str(logging.FieldRegion, req.Region).Msg("assign outline")
		return schemas.AssignOutlineReply{}, rpc.Errorf(schemas.CodeBackendUnavailable, "node registry cannot read its database")
	}
	s.metrics.assignments.WithLabelValues("ok").Inc()
	s.log.Debug().Str(logging.FieldRegion, a.Region).Int64(logging.FieldNode, a.NodeID).
		Int64(logging.FieldUser, req.UserID).Str(logging.FieldDevice, req.DeviceID).
		Int(fieldActiveSessions, a.ActiveSessions).Int(fieldMaxSessions, a.MaxSessions).Int(fieldConnections, a.Connections).Msg("outline node assigned")
	return schemas.AssignOutlineReply{OK: true, Node: &schemas.OutlineAssignment{
		NodeID:     a.NodeID,
		Region:     a.Region,
		InternalIP: a.InternalIP,
		SSPort:     a.SSPort,
		SSMethod:   a.SSMethod,
		SSPassword: a.SSPassword,
	}}, nil
}
