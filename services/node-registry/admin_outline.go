package noderegistry

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/node-registry/internal/store"
	"github.com/httvps/httvps/shared/admin"
	"github.com/httvps/httvps/shared/logging"
)

var healthStatuses = []string{schemas.HealthHealthy, schemas.HealthUnhealthy, schemas.HealthOffline}

type outlineNodeBody struct {
	Region       string `json:"region"`
	RegionID     int64  `json:"region_id"`
	Name         string `json:"name"`
	InternalIP   string `json:"internal_ip"`
	SSPort       int    `json:"ss_port"`
	SSMethod     string `json:"ss_method"`
	SSPassword   string `json:"ss_password"`
	MaxSessions  int    `json:"max_sessions"`
	HealthStatus string `json:"health_status"`
}

func (b *outlineNodeBody) validate() error {
	b.Name = strings.TrimSpace(b.Name)
	if b.HealthStatus == "" {
		b.HealthStatus = schemas.HealthHealthy
	}
	switch {
	case len(b.Name) > maxTextLen:
		return admin.Invalid("name: at most %d bytes", maxTextLen)
	case !validHost(b.InternalIP):
		return admin.Invalid("internal_ip: %q is not an IP address or host name", b.InternalIP)
	case b.SSPort < 1 || b.SSPort > 65535:
		return admin.Invalid("ss_port: %d is not a port from 1 to 65535", b.SSPort)
	case !slices.Contains(SSMethods, b.SSMethod):
		return admin.Invalid("ss_method: %q is not one of %s", b.SSMethod, strings.Join(SSMethods, ", "))
	case b.SSPassword == "":
		return admin.Invalid("ss_password: required")
	case len(b.SSPassword) > maxPasswordLen:
		return admin.Invalid("ss_password: at most %d bytes", maxPasswordLen)
	case b.MaxSessions < 1 || b.MaxSessions > maxSessionsCap:
		return admin.Invalid("max_sessions: %d is not from 1 to %d", b.MaxSessions, maxSessionsCap)
	case !slices.Contains(healthStatuses, b.HealthStatus):
		return admin.Invalid("health_status: %q is not one of %s", b.HealthStatus, strings.Join(healthStatuses, ", "))
	}
	return nil
}

func (s *Service) createOutlineNode(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	var b outlineNodeBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return nil, 0, err
	}
	if err := b.validate(); err != nil {
		return nil, 0, err
	}
	region, err := s.resolveRegion(ctx, b.Region, b.RegionID)
	if err != nil {
		return nil, 0, err
	}
	n, err := s.store.CreateOutlineNode(ctx, store.NewOutlineNode{
		RegionID:     region.ID,
		Name:         b.Name,
		InternalIP:   b.InternalIP,
		SSPort:       b.SSPort,
		SSMethod:     b.SSMethod,
		SSPassword:   b.SSPassword,
		MaxSessions:  b.MaxSessions,
		HealthStatus: b.HealthStatus,
	})
	if err != nil {
		return nil, 0, s.storeError("create outline node", err, fmt.Sprintf("outline node %s:%d", b.InternalIP, b.SSPort))
	}
	s.log.Info().Int64(logging.FieldNode, n.ID).Str(logging.FieldRegion, n.Region).Msg("outline node created")
	return n, 0, nil
}

func (s *Service) listOutlineNodes(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	f, p, err := nodeList(req, "health_status", healthStatuses)
	if err != nil {
		return nil, 0, err
	}
	nodes, total, err := s.store.ListOutlineNodes(ctx, f, p)
	if err != nil {
		return nil, 0, s.storeError("list outline nodes", err, "outline nodes")
	}
	return nodes, total, nil
}

func (s *Service) getOutlineNode(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	if req.ID <= 0 {
		return nil, 0, admin.Invalid("id: outline nodes are looked up by their positive numeric id")
	}
	n, err := s.store.OutlineNodeByID(ctx, req.ID)
	if err != nil {
		return nil, 0, s.storeError("get outline node", err, fmt.Sprintf("outline node %d", req.ID))
	}
	return n, 0, nil
}

func (s *Service) setOutlineNodeStatus(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	id, status, err := decodeStatus(req, healthStatuses...)
	if err != nil {
		return nil, 0, err
	}
	n, err := s.store.SetOutlineHealth(ctx, id, status)
	if err != nil {
		return nil, 0, s.storeError("set outline node status", err, fmt.Sprintf("outline node %d", id))
	}
	s.log.Info().Int64(logging.FieldNode, id).Str(fieldStatus, status).Msg("outline node health set")
	if status != schemas.HealthHealthy {
		s.moveSessionsOff(id, sourceAdmin, "set "+status+" by an admin")
	}
	return n, 0, nil
}
