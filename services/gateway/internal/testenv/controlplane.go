package testenv

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// Device is a device the control plane knows. Refusal, when set, is the answer to its hello.
type Device struct {
	ID      string
	Token   string
	UserID  int64
	RowID   int64
	Refusal *schemas.RPCError
}

// ControlPlane answers validate-device and assign-outline from tables, standing in for the
// accounts and node-registry services.
type ControlPlane struct {
	svc micro.Service

	mu            sync.Mutex
	devices       map[string]Device
	nodes         map[string][]schemas.OutlineAssignment
	assignCalls   []schemas.AssignOutlineRequest
	reassignDelay time.Duration
}

func StartControlPlane(tb testing.TB, nc *nats.Conn) *ControlPlane {
	tb.Helper()
	cp := &ControlPlane{devices: map[string]Device{}, nodes: map[string][]schemas.OutlineAssignment{}}
	svc, err := micro.AddService(nc, micro.Config{Name: "test-control-plane", Version: "0.0.1"})
	if err != nil {
		tb.Fatalf("control plane: %v", err)
	}
	srv := rpc.Server{Ctx: context.Background(), Log: testkit.Logger(tb)}
	if err := svc.AddEndpoint("validate-device", rpc.Handle(srv, "validate-device", cp.validate),
		micro.WithEndpointSubject(schemas.SubjectValidateDevice)); err != nil {
		tb.Fatalf("control plane: %v", err)
	}
	if err := svc.AddEndpoint("assign-outline", rpc.Handle(srv, "assign-outline", cp.assign),
		micro.WithEndpointSubject(schemas.SubjectAssignOutline)); err != nil {
		tb.Fatalf("control plane: %v", err)
	}
	addSlots(tb, svc, srv)
	if err := nc.Flush(); err != nil {
		tb.Fatalf("control plane: %v", err)
	}
	cp.svc = svc
	tb.Cleanup(cp.Stop)
	return cp
}

// Stop takes the control plane off NATS: requests then get no responders.
func (cp *ControlPlane) Stop() { _ = cp.svc.Stop() }

func (cp *ControlPlane) AddDevice(d Device) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.devices[d.ID] = d
}

// SetNodes replaces the nodes of a region, in the order they are assigned.
func (cp *ControlPlane) SetNodes(region string, nodes ...schemas.OutlineAssignment) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.nodes[region] = nodes
}

func (cp *ControlPlane) AssignCalls() []schemas.AssignOutlineRequest {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return slices.Clone(cp.assignCalls)
}

func (cp *ControlPlane) validate(_ context.Context, req schemas.ValidateDeviceRequest) (schemas.ValidateDeviceReply, error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	d, ok := cp.devices[req.DeviceID]
	switch {
	case !ok:
		return schemas.ValidateDeviceReply{Error: &schemas.RPCError{Code: schemas.CodeDeviceNotFound, Message: "unknown device"}}, nil
	case d.Token != req.AccessToken:
		return schemas.ValidateDeviceReply{Error: &schemas.RPCError{Code: schemas.CodeInvalidToken, Message: "token mismatch"}}, nil
	case d.Refusal != nil:
		return schemas.ValidateDeviceReply{Error: d.Refusal}, nil
	}
	if _, known := cp.nodes[req.Region]; !known {
		return schemas.ValidateDeviceReply{Error: &schemas.RPCError{Code: schemas.CodeRegionUnknown, Message: "region " + req.Region}}, nil
	}
	return schemas.ValidateDeviceReply{OK: true, UserID: d.UserID,
		Device: &schemas.DeviceInfo{ID: d.RowID, DeviceID: d.ID, Status: "active"}}, nil
}

func (cp *ControlPlane) assign(_ context.Context, req schemas.AssignOutlineRequest) (schemas.AssignOutlineReply, error) {
	cp.mu.Lock()
	delay := cp.reassignDelay
	cp.mu.Unlock()
	if len(req.ExcludeNodeIDs) > 0 {
		time.Sleep(delay)
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.assignCalls = append(cp.assignCalls, req)
	nodes, known := cp.nodes[req.Region]
	if !known {
		return schemas.AssignOutlineReply{Error: &schemas.RPCError{Code: schemas.CodeRegionUnknown, Message: "region " + req.Region}}, nil
	}
	for _, n := range nodes {
		if !slices.Contains(req.ExcludeNodeIDs, n.NodeID) {
			return schemas.AssignOutlineReply{OK: true, Node: &n}, nil
		}
	}
	return schemas.AssignOutlineReply{Error: &schemas.RPCError{Code: schemas.CodeNoCapacity, Message: "no healthy node"}}, nil
}

// DelayReassign makes assign-outline requests that exclude nodes wait d before answering.
func (cp *ControlPlane) DelayReassign(d time.Duration) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.reassignDelay = d
}
