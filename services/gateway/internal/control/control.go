// Package control ends sessions on the control plane's word: the events of the CONTROL stream,
// followed from the gateway's boot and replayed from the last one seen after a reconnect, and a
// re-validation of every live session after each reconnect and at an interval.
package control

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/session"
	"github.com/httvps/httvps/shared/logging"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Sessions are the live sessions the control plane acts on.
type Sessions interface {
	Control(ev schemas.ControlEvent, gatewayID string) int
	Live() []session.Live
}

// Nodes is told which Outline nodes the sessions must leave.
type Nodes interface {
	MoveOff(nodeID int64)
}

// Validator asks the control plane whether a device may still be served.
type Validator interface {
	ValidateDevice(ctx context.Context, req schemas.ValidateDeviceRequest) (schemas.ValidateDeviceReply, *schemas.RPCError)
}

type Config struct {
	GatewayID string
	// RevalidateInterval is how often every live session is validated again.
	RevalidateInterval time.Duration
	// Workers bounds the validations in flight at once.
	Workers int
	// Since is where following the CONTROL stream starts: the gateway's boot.
	Since time.Time
}

type Deps struct {
	NC         *nats.Conn
	Sessions   Sessions
	Nodes      Nodes
	Validator  Validator
	Registerer prometheus.Registerer
	Log        zerolog.Logger
}

type Control struct {
	cfg      Config
	nc       *nats.Conn
	js       jetstream.JetStream
	sessions Sessions
	nodes    Nodes
	validate Validator
	m        *controlMetrics
	log      zerolog.Logger
}

func New(cfg Config, deps Deps) (*Control, error) {
	if deps.NC == nil || deps.Sessions == nil || deps.Nodes == nil || deps.Validator == nil {
		return nil, errors.New("control: NATS, sessions, nodes and a validator are required")
	}
	if cfg.RevalidateInterval <= 0 {
		return nil, errors.New("control: the re-validation interval must be positive")
	}
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	js, err := jetstream.New(deps.NC)
	if err != nil {
		return nil, err
	}
	m, err := newControlMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	return &Control{cfg: cfg, nc: deps.NC, js: js, sessions: deps.Sessions, nodes: deps.Nodes, validate: deps.Validator, m: m, log: deps.Log}, nil
}

// Run follows the CONTROL stream and re-validates sessions until ctx ends.
func (c *Control) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { c.follow(ctx) })
	wg.Go(func() { c.revalidateLoop(ctx) })
	wg.Wait()
}

func moveOff(ev schemas.ControlEvent, subject string, nodes Nodes, log zerolog.Logger) {
	id, err := strconv.ParseInt(ev.ID, 10, 64)
	if err != nil || ev.What != schemas.ControlMove || id <= 0 {
		log.Warn().Str(logging.FieldSubject, subject).Msg("unusable outline node event")
		return
	}
	nodes.MoveOff(id)
	log.Info().Int64(logging.FieldNode, id).Str(logging.FieldReason, ev.Reason).Msg("sessions move off outline node")
}
