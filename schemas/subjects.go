package schemas

import (
	"fmt"
	"strconv"
	"strings"
)

const (
	StreamUsage      = "USAGE"
	StreamSessions   = "SESSIONS"
	StreamHeartbeats = "HEARTBEATS"
	StreamControl    = "CONTROL"

	SubjectUsageAll     = "httvps.usage.>"
	SubjectSessionAll   = "httvps.session.>"
	SubjectHeartbeatAll = "httvps.heartbeat.>"
	SubjectControlAll   = "httvps.control.>"

	SubjectGatewayHeartbeatAll = "httvps.heartbeat.gateway.*"
	SubjectOutlineHeartbeatAll = "httvps.heartbeat.outline.*"
	SubjectSessionStartedAll   = "httvps.session.started.*"
	SubjectSessionEndedAll     = "httvps.session.ended.*"
	SubjectOutlineDialsAll     = "httvps.health.dials.*"
	SubjectOutlineMoveAll      = "httvps.control.outline_node.*.move"
	SubjectSessionBootAll      = "httvps.session.boot.*"

	SubjectValidateDevice = "httvps.rpc.accounts.validate-device"
	SubjectAssignOutline  = "httvps.rpc.nodes.assign-outline"
	SubjectAdminPrefix    = "httvps.rpc.admin"

	ServiceAccounts     = "accounts"
	ServiceNodeRegistry = "node-registry"

	ConsumerUsageAggregator    = "usage-aggregator"
	ConsumerSessionsAggregator = "usage-aggregator-sessions"
	ConsumerSessionsRegistry   = "node-registry-sessions"
	ConsumerBootsAggregator    = "usage-aggregator-boots"
	ConsumerHeartbeatsRegistry = "node-registry-heartbeats"

	HeaderMsgID = "Nats-Msg-Id"

	NoRegion = "none"
)

type SessionEvent string

const (
	SessionStartedEvent SessionEvent = "started"
	SessionEndedEvent   SessionEvent = "ended"
	SessionBootEvent    SessionEvent = "boot"
)

type ControlScope string

const (
	ScopeUser    ControlScope = "user"
	ScopeDevice  ControlScope = "device"
	ScopeSession ControlScope = "session"
	ScopeGateway ControlScope = "gateway"
	// ScopeOutlineNode events name an Outline node; sessions on it move to another node.
	ScopeOutlineNode ControlScope = "outline_node"
)

type ControlWhat string

const (
	ControlKick   ControlWhat = "kick"
	ControlLimit  ControlWhat = "limit"
	ControlRevoke ControlWhat = "revoke"
	ControlMove   ControlWhat = "move"
)

func ValidToken(s string) error {
	if s == "" {
		return fmt.Errorf("empty subject token")
	}
	if strings.ContainsAny(s, ".*> \t\r\n") {
		return fmt.Errorf("subject token %q contains one of '.', '*', '>' or white space", s)
	}
	return nil
}

func token(s string) string {
	if s == "" {
		return "_"
	}
	if ValidToken(s) != nil {
		return strings.Map(func(r rune) rune {
			if strings.ContainsRune(".*> \t\r\n", r) {
				return '_'
			}
			return r
		}, s)
	}
	return s
}

func UsageSubject(region, gatewayID string) string {
	if region == "" {
		region = NoRegion
	}
	return "httvps.usage." + token(region) + "." + token(gatewayID)
}

func SessionSubject(event SessionEvent, gatewayID string) string {
	return "httvps.session." + string(event) + "." + token(gatewayID)
}

func GatewayHeartbeatSubject(gatewayID string) string {
	return "httvps.heartbeat.gateway." + token(gatewayID)
}

func OutlineHeartbeatSubject(nodeID int64) string {
	return fmt.Sprintf("httvps.heartbeat.outline.%d", nodeID)
}

// OutlineDialsSubject carries a gateway's dial outcomes per Outline node (core NATS, queue
// group of node-registry).
func OutlineDialsSubject(gatewayID string) string {
	return "httvps.health.dials." + token(gatewayID)
}

// OutlineMoveSubject tells every gateway to move its sessions off an Outline node.
func OutlineMoveSubject(nodeID int64) string {
	return ControlSubject(ScopeOutlineNode, strconv.FormatInt(nodeID, 10), ControlMove)
}

func AdminSubject(resource, verb string) string {
	return SubjectAdminPrefix + "." + token(resource) + "." + token(verb)
}

func ControlSubject(scope ControlScope, id string, what ControlWhat) string {
	return "httvps.control." + string(scope) + "." + token(id) + "." + string(what)
}

// BootMsgID deduplicates the retries of one boot announcement.
func BootMsgID(bootID string) string { return "boot:" + bootID }

// ControlMsgID deduplicates the retries of one control event.
func ControlMsgID(ev ControlEvent) string {
	return fmt.Sprintf("%s:%s:%s:%d", ev.Scope, token(ev.ID), ev.What, ev.IssuedAt.UnixNano())
}

func UsageMsgID(sessionID string, seq uint64) string {
	return fmt.Sprintf("%s:%d", sessionID, seq)
}

// GatewayUsageSubjects matches the usage reports of one gateway in every region.
func GatewayUsageSubjects(gatewayID string) string { return "httvps.usage.*." + token(gatewayID) }

// GatewaySessionSubjects matches the session events of one gateway.
func GatewaySessionSubjects(gatewayID string) string { return "httvps.session.*." + token(gatewayID) }
