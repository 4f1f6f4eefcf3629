package schemas

import "strings"

// Session slots and traffic leases: the gateway asks the usage-aggregator (the owner of usage and
// sessions) for a slot on hello, for traffic leases while the session runs, and returns both at
// the end, each on SlotSubject(base, its gateway id), which only that gateway may publish to.
// See docs/01-architecture-overview.md.
const (
	SubjectSessionOpen      = "httvps.rpc.usage.session-open"
	SubjectSessionLease     = "httvps.rpc.usage.lease"
	SubjectSessionClose     = "httvps.rpc.usage.session-close"
	SubjectSessionKeepalive = "httvps.rpc.usage.keepalive"

	// ServiceUsageSlots is the nats micro service of the aggregator that serves them.
	ServiceUsageSlots = "usage-aggregator-slots"

	VerbLimits = "limits"
	// VerbReset zeroes the current month's usage of a user (usage.reset).
	VerbReset = "reset"

	// ControlRefresh asks the gateways to re-validate the named live sessions: their limits changed.
	ControlRefresh ControlWhat = "refresh"
	// ScopePlan events name a plan: every live session whose subscription is on it.
	ScopePlan ControlScope = "plan"

	CodeSessionReplaced ErrorCode = "SESSION_REPLACED"
	LimitSessions       LimitKind = "sessions"
	EndReasonReplaced             = "replaced"
)

// LeaseGrant is the traffic a session may move: Granted is cumulative over the session (up plus
// down), so a retried request never counts twice. Unlimited sessions need no lease. Granted only
// falls when the user's limit was lowered below what the leases hold: the gateway then stops at
// the new grant (never below what the session already moved).
type LeaseGrant struct {
	Unlimited bool  `json:"unlimited"`
	Granted   int64 `json:"granted"`
	Exhausted bool  `json:"exhausted"`
}

type SessionOpenRequest struct {
	SessionID string `json:"session_id"`
	GatewayID string `json:"gateway_id"`
	DeviceID  string `json:"device_id"`
	Want      int64  `json:"want"`
}

type SessionOpenReply struct {
	OK       bool        `json:"ok"`
	Error    *RPCError   `json:"error,omitempty"`
	Lease    *LeaseGrant `json:"lease,omitempty"`
	Replaced []string    `json:"replaced,omitempty"`
	TTLMS    int64       `json:"ttl_ms,omitempty"`
}

type LeaseRequest struct {
	SessionID string `json:"session_id"`
	GatewayID string `json:"gateway_id"`
	Used      int64  `json:"used"`
	Held      int64  `json:"held"`
	Want      int64  `json:"want"`
}

type LeaseReply struct {
	OK    bool        `json:"ok"`
	Error *RPCError   `json:"error,omitempty"`
	Lease *LeaseGrant `json:"lease,omitempty"`
}

type SessionCloseRequest struct {
	SessionID string `json:"session_id"`
	GatewayID string `json:"gateway_id"`
	Used      int64  `json:"used"`
}

type KeepaliveRequest struct {
	GatewayID  string   `json:"gateway_id"`
	SessionIDs []string `json:"session_ids"`
}

// KeepaliveReply names the sessions whose slot expired or never existed (a replaced session is not
// named: it hears of its end from its own control event).
type KeepaliveReply struct {
	OK      bool      `json:"ok"`
	Error   *RPCError `json:"error,omitempty"`
	Unknown []string  `json:"unknown,omitempty"`
}

// SlotReply answers session-close.
type SlotReply struct {
	OK    bool      `json:"ok"`
	Error *RPCError `json:"error,omitempty"`
}

// SlotSubjects are the bases of the requests a gateway sends for its sessions' slots and leases.
func SlotSubjects() []string {
	return []string{SubjectSessionOpen, SubjectSessionLease, SubjectSessionClose, SubjectSessionKeepalive}
}

// SlotSubject is the subject of one gateway's slot request of the given base.
func SlotSubject(base, gatewayID string) string { return base + "." + token(gatewayID) }

// SlotEndpoint is the subject the usage-aggregator serves a base on: every gateway's.
func SlotEndpoint(base string) string { return base + ".*" }

// GatewaySlotSubjects are the slot requests of one gateway: the only ones it may send.
func GatewaySlotSubjects(gatewayID string) []string {
	out := SlotSubjects()
	for i, base := range out {
		out[i] = SlotSubject(base, gatewayID)
	}
	return out
}

// SlotGateway is the gateway id of a slot request subject of the given base.
func SlotGateway(base, subject string) (string, bool) {
	id, ok := strings.CutPrefix(subject, base+".")
	return id, ok && ValidToken(id) == nil
}

// SlotRequest is what every slot request names: the gateway it claims to come from.
type SlotRequest interface{ Gateway() string }

func (r SessionOpenRequest) Gateway() string  { return r.GatewayID }
func (r LeaseRequest) Gateway() string        { return r.GatewayID }
func (r SessionCloseRequest) Gateway() string { return r.GatewayID }
func (r KeepaliveRequest) Gateway() string    { return r.GatewayID }

func limitContracts() []Contract {
	return []Contract{
		{"SessionOpenRequest", "session-open-request.schema.json", func() any { return new(SessionOpenRequest) }},
		{"SessionOpenReply", "session-open-reply.schema.json", func() any { return new(SessionOpenReply) }},
		{"LeaseRequest", "lease-request.schema.json", func() any { return new(LeaseRequest) }},
		{"LeaseReply", "lease-reply.schema.json", func() any { return new(LeaseReply) }},
		{"SessionCloseRequest", "session-close-request.schema.json", func() any { return new(SessionCloseRequest) }},
		{"SlotReply", "slot-reply.schema.json", func() any { return new(SlotReply) }},
		{"KeepaliveRequest", "keepalive-request.schema.json", func() any { return new(KeepaliveRequest) }},
		{"KeepaliveReply", "keepalive-reply.schema.json", func() any { return new(KeepaliveReply) }},
	}
}
