// Package natsauth is the NATS identity model of HTTVPS: one nkey user per gateway and per
// control-plane service, each allowed only its own subjects and its own inbox prefix. It renders
// the accounts block of the NATS server configuration and creates the keys.
package natsauth

import (
	"fmt"
	"strconv"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/natsx"
)

// Account is the NATS account every HTTVPS identity lives in.
const Account = "HTTVPS"

const (
	RoleService = "service"
	RoleGateway = "gateway"
	// RoleAgent is an Outline agent; its name is the id of its node.
	RoleAgent = "agent"
)

// Control-plane identities; the all-in-one process and tests may use others.
const (
	Accounts        = schemas.ServiceAccounts
	NodeRegistry    = schemas.ServiceNodeRegistry
	UsageAggregator = schemas.ServiceUsageAggregator
	Edge            = "edge"
	Operator        = "operator"
	// Provisioner creates and updates the streams and durable consumers (httvps-provision).
	Provisioner = "provisioner"
)

// Services lists the control-plane identities in the order they are rendered.
func Services() []string {
	return []string{Accounts, NodeRegistry, UsageAggregator, Edge, Operator, Provisioner}
}

// Permissions is what one identity may publish and subscribe to.
type Permissions struct {
	Publish        []string
	Subscribe      []string
	AllowResponses bool
	// Inbox is the prefix the identity's requests must use (nats.CustomInboxPrefix).
	Inbox string
}

// ServiceInbox and GatewayInbox are the inbox prefixes: nobody may subscribe to another's.
func ServiceInbox(name string) string { return "_INBOX.svc." + name }

func GatewayInbox(id string) string { return "_INBOX.gw." + id }

func AgentInbox(nodeID string) string { return "_INBOX.agent." + nodeID }

// AgentPermissions: an Outline agent publishes the heartbeat of its own node and nothing else.
func AgentPermissions(nodeID string) (Permissions, error) {
	id, err := strconv.ParseInt(nodeID, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != nodeID {
		return Permissions{}, fmt.Errorf("agent name %q must be the positive id of its outline node", nodeID)
	}
	return Permissions{
		Publish:   []string{schemas.OutlineHeartbeatSubject(id)},
		Subscribe: []string{AgentInbox(nodeID) + ".>"},
		Inbox:     AgentInbox(nodeID),
	}, nil
}

// GatewayPermissions: its own usage, session (and boot) and heartbeat subjects, the two RPC
// subjects and its own slot and lease requests; control events and its own inbox. The only JetStream
// API it may use is for the ordered consumers that follow the CONTROL stream; no consumer on any
// other stream.
func GatewayPermissions(id string) (Permissions, error) {
	if err := schemas.ValidToken(id); err != nil {
		return Permissions{}, fmt.Errorf("gateway id: %w", err)
	}
	return Permissions{
		Publish: append([]string{
			schemas.GatewayUsageSubjects(id),
			schemas.GatewaySessionSubjects(id),
			schemas.GatewayHeartbeatSubject(id),
			schemas.OutlineDialsSubject(id),
			schemas.SubjectValidateDevice,
			schemas.SubjectAssignOutline,
		}, append(follow(schemas.StreamControl), schemas.GatewaySlotSubjects(id)...)...),
		Subscribe: []string{schemas.SubjectControlAll, GatewayInbox(id) + ".>"},
		Inbox:     GatewayInbox(id),
	}, nil
}

// ServicePermissions gives each control-plane service what it serves, consumes and publishes.
func ServicePermissions(name string) (Permissions, error) {
	p := Permissions{Inbox: ServiceInbox(name), AllowResponses: true, Subscribe: []string{ServiceInbox(name) + ".>"}}
	serve := func(subjects ...string) {
		p.Subscribe = append(p.Subscribe, subjects...)
		p.Subscribe = append(p.Subscribe, microSubjects(name)...)
	}
	switch name {
	case Accounts:
		serve(append([]string{schemas.SubjectValidateDevice}, adminSubjects(name)...)...)
		p.Publish = []string{schemas.SubjectControlAll}
	case NodeRegistry:
		serve(append([]string{schemas.SubjectAssignOutline, schemas.SubjectOutlineDialsAll}, adminSubjects(name)...)...)
		p.Publish = append(consume(schemas.StreamSessions, schemas.ConsumerSessionsRegistry),
			consume(schemas.StreamHeartbeats, schemas.ConsumerHeartbeatsRegistry)...)
		p.Publish = append(p.Publish, schemas.SubjectOutlineMoveAll)
	case UsageAggregator:
		serve(append(slotEndpoints(), adminSubjects(name)...)...)
		p.Subscribe = append(p.Subscribe, microSubjects(schemas.ServiceUsageSlots)...)
		p.Publish = append([]string{schemas.SubjectControlAll, schemas.SubjectSessionEndedAll},
			consume(schemas.StreamUsage, schemas.ConsumerUsageAggregator)...)
		p.Publish = append(p.Publish, consume(schemas.StreamSessions, schemas.ConsumerSessionsAggregator)...)
		p.Publish = append(p.Publish, consume(schemas.StreamSessions, schemas.ConsumerBootsAggregator)...)
	case Edge:
		p.AllowResponses = false
		p.Publish = []string{schemas.SubjectValidateDevice, schemas.SubjectAssignOutline, schemas.SubjectAdminPrefix + ".>",
			schemas.SubjectUsageAll, schemas.SubjectHeartbeatAll, "$JS.API.INFO", "$SRV.PING.>"}
	case Provisioner:
		p.AllowResponses = false
		p.Publish = provisionSubjects(natsx.DefaultStreams())
	case Operator:
		p.Publish = []string{"$JS.API.>", "$SRV.>", schemas.SubjectAdminPrefix + ".>"}
		p.Subscribe = append(p.Subscribe, schemas.SubjectUsageAll, schemas.SubjectSessionAll, schemas.SubjectHeartbeatAll, schemas.SubjectControlAll,
			schemas.SubjectOutlineDialsAll)
	default:
		return Permissions{}, fmt.Errorf("%q is not an HTTVPS service identity (known: %v)", name, Services())
	}
	return p, nil
}

// slotEndpoints are the slot requests of every gateway, each base followed by the gateway id.
func slotEndpoints() []string {
	out := schemas.SlotSubjects()
	for i, base := range out {
		out[i] = schemas.SlotEndpoint(base)
	}
	return out
}

func adminSubjects(owner string) []string {
	var out []string
	for _, c := range schemas.AdminCommandsOf(owner) {
		out = append(out, c.Subject())
	}
	return out
}

// microSubjects are the discovery subjects ($SRV PING, INFO, STATS) of one nats micro service.
func microSubjects(name string) []string {
	return []string{"$SRV.*", "$SRV.*." + name, "$SRV.*." + name + ".*"}
}

// consume is what a pull consumer on one durable needs: its info, the next batch and the acks.
func consume(stream, durable string) []string {
	return []string{
		"$JS.API.CONSUMER.INFO." + stream + "." + durable,
		"$JS.API.CONSUMER.MSG.NEXT." + stream + "." + durable,
		"$JS.ACK." + stream + "." + durable + ".>",
	}
}

// follow is what an ordered consumer of one stream needs: creating its ephemeral consumers
// (named, no filter), pulling from them and deleting them when it recreates one.
func follow(stream string) []string {
	return []string{
		"$JS.API.CONSUMER.CREATE." + stream + ".*",
		"$JS.API.CONSUMER.MSG.NEXT." + stream + ".*",
		"$JS.API.CONSUMER.DELETE." + stream + ".*",
	}
}
