package session

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
)

// Registry is the set of live sessions of a gateway.
type Registry struct {
	m        *metrics.Metrics
	mu       sync.Mutex
	sessions map[string]*Session
	draining bool
	serving  sync.WaitGroup
}

func newRegistry(m *metrics.Metrics) *Registry {
	return &Registry{m: m, sessions: map[string]*Session{}}
}

func (r *Registry) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.draining {
		return false
	}
	r.serving.Add(1)
	return true
}

func (r *Registry) leave() { r.serving.Done() }

func (r *Registry) add(s *Session) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.draining {
		return false
	}
	r.sessions[s.id] = s
	r.m.SessionsActive.Set(float64(len(r.sessions)))
	return true
}

func (r *Registry) remove(s *Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.sessions, s.id)
	r.m.SessionsActive.Set(float64(len(r.sessions)))
}

func (r *Registry) all() []*Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Session, 0, len(r.sessions))
	for _, s := range r.sessions {
		out = append(out, s)
	}
	return out
}

func (r *Registry) startDraining() {
	r.mu.Lock()
	r.draining = true
	r.mu.Unlock()
}

func (r *Registry) terminateAll(e ending) {
	for _, s := range r.all() {
		s.terminate(e)
	}
}

func (r *Registry) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		r.serving.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sessions still running: %w", ctx.Err())
	}
}

// Counts is the load of the gateway: live sessions and their open streams.
func (r *Registry) Counts() (sessions, streams int) {
	for _, s := range r.all() {
		sessions++
		streams += s.streamCount()
	}
	return sessions, streams
}

// Control ends the sessions an event names, with the event's code. It returns how many.
func (r *Registry) Control(ev schemas.ControlEvent, gatewayID string) int {
	e := endingFor(ev)
	n := 0
	for _, s := range r.all() {
		if !s.matches(ev.Scope, ev.ID, gatewayID) {
			continue
		}
		if ev.What == schemas.ControlRefresh {
			go s.refresh()
		} else {
			s.terminate(e)
		}
		n++
	}
	return n
}

func (s *Session) matches(scope schemas.ControlScope, id, gatewayID string) bool {
	switch scope {
	case schemas.ScopeSession:
		return id == s.id
	case schemas.ScopeDevice:
		return id == s.hello.DeviceID || (s.deviceRowID != 0 && id == strconv.FormatInt(s.deviceRowID, 10))
	case schemas.ScopeUser:
		return id == strconv.FormatInt(s.userID, 10)
	case schemas.ScopePlan:
		plan := s.limits.plan.Load()
		return plan != 0 && id == strconv.FormatInt(plan, 10)
	case schemas.ScopeGateway:
		return id == gatewayID || id == "*"
	}
	return false
}

func endingFor(ev schemas.ControlEvent) ending {
	e := ending{code: ev.Code, limit: ev.Limit, message: ev.Reason}
	switch ev.What {
	case schemas.ControlKick:
		e.reason = schemas.EndReasonKicked
		if e.code == "" {
			e.code = schemas.CodeSessionKicked
		}
		if e.code == schemas.CodeSessionReplaced {
			e.reason = schemas.EndReasonReplaced
		}
	case schemas.ControlRevoke:
		e.reason = schemas.EndReasonRevoked
		if e.code == "" {
			e.code = schemas.CodeDeviceRevoked
		}
	case schemas.ControlLimit:
		e.reason = schemas.EndReasonLimit
		if e.code == "" {
			e.code = schemas.CodeLimitReached
		}
		if e.code == schemas.CodeLimitReached && e.limit == "" {
			e.limit = schemas.LimitTraffic
		}
	default:
		e.reason = schemas.EndReasonKicked
		if e.code == "" {
			e.code = schemas.CodeSessionKicked
		}
	}
	if e.message == "" {
		e.message = fmt.Sprintf("ended by the control plane (%s)", ev.What)
	}
	return e
}
