package schemas

type FrameType string

const (
	FrameHello        FrameType = "hello"
	FrameHelloOK      FrameType = "hello_ok"
	FrameError        FrameType = "error"
	FrameStreamOpen   FrameType = "stream_open"
	FrameStreamData   FrameType = "stream_data"
	FrameStreamClose  FrameType = "stream_close"
	FrameStreamWindow FrameType = "stream_window"
	FrameStreamOK     FrameType = "stream_ok"
	FrameUDPData      FrameType = "udp_data"
	FrameUDPClose     FrameType = "udp_close"
	FramePing         FrameType = "ping"
	FramePong         FrameType = "pong"
)

const (
	FeatureBinary        = "binary"
	FeatureFlowControl   = "flow_control"
	FeatureStreamConfirm = "stream_confirm"
	FeatureUDP           = "udp"
)

type Hello struct {
	Type          FrameType `json:"type"`
	DeviceID      string    `json:"device_id"`
	AccessToken   string    `json:"access_token"`
	Region        string    `json:"region"`
	ClientVersion string    `json:"client_version,omitempty"`
	Platform      string    `json:"platform,omitempty"`
	Features      []string  `json:"features,omitempty"`
}

type HelloOK struct {
	Type      FrameType      `json:"type"`
	SessionID string         `json:"session_id"`
	Features  []string       `json:"features,omitempty"`
	Limits    *SessionLimits `json:"limits,omitempty"`
}

type SessionLimits struct {
	MaxStreams     int `json:"max_streams"`
	MaxFrameSize   int `json:"max_frame_size"`
	InitialWindow  int `json:"initial_window,omitempty"`
	MaxWindow      int `json:"max_window,omitempty"`
	SessionWindow  int `json:"session_window,omitempty"`
	MaxFlows       int `json:"max_flows,omitempty"`
	MaxDatagram    int `json:"max_datagram,omitempty"`
	UDPRate        int `json:"udp_rate,omitempty"`
	UDPIdleMS      int `json:"udp_idle_timeout_ms,omitempty"`
	PingIntervalMS int `json:"ping_interval_ms"`
	IdleTimeoutMS  int `json:"idle_timeout_ms"`
}

type ErrorFrame struct {
	Type     FrameType `json:"type"`
	Code     ErrorCode `json:"code"`
	StreamID *uint32   `json:"stream_id,omitempty"`
	FlowID   *uint32   `json:"flow_id,omitempty"`
	Message  string    `json:"message,omitempty"`
	Limit    LimitKind `json:"limit,omitempty"`
}

type StreamOpen struct {
	Type     FrameType `json:"type"`
	StreamID uint32    `json:"stream_id"`
	Target   string    `json:"target"`
}

type StreamData struct {
	Type     FrameType `json:"type"`
	StreamID uint32    `json:"stream_id"`
	Payload  []byte    `json:"payload"`
}

type StreamClose struct {
	Type     FrameType `json:"type"`
	StreamID uint32    `json:"stream_id"`
	Code     ErrorCode `json:"code,omitempty"`
	Message  string    `json:"message,omitempty"`
}

type StreamWindow struct {
	Type     FrameType `json:"type"`
	StreamID uint32    `json:"stream_id"`
	Credit   uint32    `json:"credit"`
}

// StreamOK confirms a stream_open: the target passed the policy and an Outline node took the
// connection. Sent only with the stream_confirm feature, before any data of the stream.
type StreamOK struct {
	Type     FrameType `json:"type"`
	StreamID uint32    `json:"stream_id"`
}

// UDPData is one datagram of a UDP flow (feature udp), never split. Addr is the target
// host:port from the client and the source ip:port from the gateway.
type UDPData struct {
	Type    FrameType `json:"type"`
	FlowID  uint32    `json:"flow_id"`
	Addr    string    `json:"addr"`
	Payload []byte    `json:"payload"`
}

// UDPClose ends a UDP flow: from the client when it is done, from the gateway with the code
// of why (IDLE_TIMEOUT, LIMIT_REACHED with limit udp_flows, UPSTREAM_UNREACHABLE).
type UDPClose struct {
	Type    FrameType `json:"type"`
	FlowID  uint32    `json:"flow_id"`
	Code    ErrorCode `json:"code,omitempty"`
	Limit   LimitKind `json:"limit,omitempty"`
	Message string    `json:"message,omitempty"`
}

type Ping struct {
	Type FrameType `json:"type"`
	ID   uint64    `json:"id,omitempty"`
}

type Pong struct {
	Type FrameType `json:"type"`
	ID   uint64    `json:"id,omitempty"`
}
