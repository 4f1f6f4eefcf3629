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

var gatewayStatuses = []string{schemas.GatewayStatusOnline, schemas.GatewayStatusDraining, schemas.GatewayStatusOffline}

type gatewayNodeBody struct {
	Name       string `json:"name"`
	Region     string `json:"region"`
	RegionID   int64  `json:"region_id"`
	PublicIP   string `json:"public_ip"`
	InternalIP string `json:"internal_ip"`
	Status     string `json:"status"`
}

func (b *gatewayNodeBody) validate() error {
	if b.Status == "" {
		b.Status = schemas.GatewayStatusOffline
	}
	switch {
	case !validName(b.Name):
		return admin.Invalid("name: %q must be 1 to 64 letters, digits, '-' or '_' (the gateway_id of its heartbeats)", b.Name)
	case b.PublicIP != "" && !validHost(b.PublicIP):
		return admin.Invalid("public_ip: %q is not an IP address or host name", b.PublicIP)
	case b.InternalIP != "" && !validHost(b.InternalIP):
		return admin.Invalid("internal_ip: %q is not an IP address or host name", b.InternalIP)
	case !slices.Contains(gatewayStatuses, b.Status):
		return admin.Invalid("status: %q is not one of %s", b.Status, strings.Join(gatewayStatuses, ", "))
	}
	return nil
}

func (s *Service) createGatewayNode(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	var b gatewayNodeBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return nil, 0, err
	}
	if err := b.validate(); err != nil {
		return nil, 0, err
	}
	var regionID *int64
	if b.Region != "" || b.RegionID != 0 {
		r, err := s.resolveRegion(ctx, b.Region, b.RegionID)
		if err != nil {
			return nil, 0, err
		}
		regionID = &r.ID
	}
	g, err := s.store.CreateGatewayNode(ctx, store.NewGatewayNode{
		Name: b.Name, RegionID: regionID, PublicIP: b.PublicIP, InternalIP: b.InternalIP, Status: b.Status,
	})
	if err != nil {
		return nil, 0, s.storeError("create gateway node", err, fmt.Sprintf("gateway node %q", b.Name))
	}
	s.log.Info().Str(logging.FieldGateway, g.Name).Int64(fieldGatewayNodeID, g.ID).Msg("gateway node created")
	return g, 0, nil
}

func (s *Service) listGatewayNodes(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	f, p, err := nodeList(req, "status", gatewayStatuses)
	if err != nil {
		return nil, 0, err
	}
	nodes, total, err := s.store.ListGatewayNodes(ctx, f, p)
	if err != nil {
		return nil, 0, s.storeError("list gateway nodes", err, "gateway nodes")
	}
	return nodes, total, nil
}

func (s *Service) getGatewayNode(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := admin.TargetOf(req, "name")
	if err != nil {
		return nil, 0, err
	}
	var g store.GatewayNode
	if t.Key != "" {
		g, err = s.store.GatewayNodeByName(ctx, t.Key)
	} else {
		g, err = s.store.GatewayNodeByID(ctx, t.ID)
	}
	if err != nil {
		return nil, 0, s.storeError("get gateway node", err, "gateway node "+t.String())
	}
	return g, 0, nil
}

func (s *Service) setGatewayNodeStatus(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	id, status, err := decodeStatus(req, gatewayStatuses...)
	if err != nil {
		return nil, 0, err
	}
	g, err := s.store.SetGatewayStatus(ctx, id, status)
	if err != nil {
		return nil, 0, s.storeError("set gateway node status", err, fmt.Sprintf("gateway node %d", id))
	}
	s.log.Info().Str(logging.FieldGateway, g.Name).Str(fieldStatus, status).Msg("gateway node status set")
	return g, 0, nil
}
