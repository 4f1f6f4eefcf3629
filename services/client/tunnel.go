package client

import (
	"context"
	"errors"
	"github.com/httvps/httvps/shared/pause"
	"strings"
	"sync"
	"time"

	"github.com/httvps/httvps/shared/logging"
	"github.com/rs/zerolog"
)

// ErrTunnelStopped is returned by Tunnel.OpenStream once Run has returned.
var ErrTunnelStopped = errors.New("httvps: tunnel stopped")

// Tunnel keeps one session to the gateway up: it reconnects with capped exponential backoff
// when the connection drops, and gives up on a definitive refusal (IsDefinitive).
type Tunnel struct {
	cfg     Config
	log     zerolog.Logger
	backoff Backoff
	dial    func(ctx context.Context) (*Session, error)
	sleep   func(ctx context.Context, d time.Duration) bool
	now     func() time.Time

	mu      sync.Mutex
	cur     *Session
	ready   chan struct{}
	stopped error
}

func NewTunnel(cfg Config, log zerolog.Logger) *Tunnel {
	t := &Tunnel{
		cfg: cfg, log: log, backoff: NewBackoff(cfg.BackoffMin, cfg.BackoffMax),
		sleep: pause.For, now: time.Now, ready: make(chan struct{}),
	}
	t.dial = func(ctx context.Context) (*Session, error) { return DialLogger(ctx, cfg, log) }
	return t
}

// Session is the current session, nil while (re)connecting.
func (t *Tunnel) Session() *Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cur
}

// Run connects and reconnects until ctx ends (then it closes the session and returns nil) or
// the gateway refuses definitively (then it returns that refusal).
func (t *Tunnel) Run(ctx context.Context) error {
	err := t.run(ctx)
	t.mu.Lock()
	t.stopped = ErrTunnelStopped
	if err != nil {
		t.stopped = err
	}
	close(t.ready)
	t.mu.Unlock()
	return err
}

func (t *Tunnel) run(ctx context.Context) error {
	policy := reconnectPolicy{backoff: t.backoff, stableAfter: t.cfg.StableAfter}
	for {
		s, err := t.dial(ctx)
		if ctx.Err() != nil {
			if s != nil {
				s.Close()
			}
			return nil
		}
		var lived time.Duration
		if err == nil {
			t.log.Info().Str(logging.FieldSession, s.ID()).Str("features", strings.Join(s.Features(), ",")).Msg("connected to " + t.cfg.Gateway)
			started := t.now()
			t.set(s)
			select {
			case <-s.Done():
			case <-ctx.Done():
				t.clear(s)
				s.Close()
				t.log.Info().Msg("disconnected")
				return nil
			}
			t.clear(s)
			err, lived = s.Err(), t.now().Sub(started)
		}
		delay, retry := policy.next(err, lived)
		if !retry {
			return err
		}
		t.log.Warn().Str("retry_in", delay.Round(time.Millisecond).String()).Msg(plain(err))
		if !t.sleep(ctx, delay) {
			return nil
		}
	}
}

// reconnectPolicy decides after each failed attempt or ended session whether to retry and
// after how long: never after a definitive refusal; the backoff restarts after a session that
// lived stableAfter.
type reconnectPolicy struct {
	backoff     Backoff
	stableAfter time.Duration
	attempt     int
}

func (p *reconnectPolicy) next(err error, lived time.Duration) (time.Duration, bool) {
	if IsDefinitive(err) {
		return 0, false
	}
	if lived >= p.stableAfter {
		p.attempt = 0
	}
	d := p.backoff.Delay(p.attempt)
	p.attempt++
	return d, true
}

// plain is err in words for a person: the gateway's reason without the wrapping.
func plain(err error) string {
	if ge, ok := AsGatewayError(err); ok {
		return ge.Error()
	}
	return err.Error()
}

func (t *Tunnel) set(s *Session) {
	t.mu.Lock()
	t.cur = s
	close(t.ready)
	t.mu.Unlock()
}

func (t *Tunnel) clear(s *Session) {
	t.mu.Lock()
	if t.cur == s {
		t.cur = nil
		t.ready = make(chan struct{})
	}
	t.mu.Unlock()
}

// OpenStream opens a stream on the current session, waiting (until ctx ends) while the tunnel
// reconnects.
func (t *Tunnel) OpenStream(ctx context.Context, target string) (*Stream, error) {
	return onSession(ctx, t, func(s *Session) (*Stream, error) { return s.OpenStream(ctx, target) })
}

// ListenUDP opens a UDP flow on the current session, waiting (until ctx ends) while the tunnel
// reconnects. The flow ends with its session.
func (t *Tunnel) ListenUDP(ctx context.Context) (*UDPConn, error) {
	return onSession(ctx, t, func(s *Session) (*UDPConn, error) { return s.ListenUDP(ctx) })
}

// onSession runs open on the current session; a session that ended meanwhile is dropped and
// the next one is waited for.
func onSession[T any](ctx context.Context, t *Tunnel, open func(*Session) (T, error)) (T, error) {
	var zero T
	for {
		t.mu.Lock()
		s, ready, stopped := t.cur, t.ready, t.stopped
		t.mu.Unlock()
		if stopped != nil {
			return zero, stopped
		}
		if s != nil {
			v, err := open(s)
			if err == nil || !errors.Is(err, ErrSessionClosed) {
				return v, err
			}
			t.clear(s)
			continue
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
}
