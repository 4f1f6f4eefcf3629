// Package quota holds a session's traffic lease: bytes granted by the control plane that the
// session may move (up plus down). Take spends the lease and asks for more before it runs out; when
// nothing more is granted, Take gives what is left and reports ErrExhausted. A nil Lease is
// unlimited.
package quota

import (
	"context"
	"errors"
	"github.com/httvps/httvps/shared/pause"
	"sync"
	"time"

	"github.com/httvps/httvps/schemas"
)

// ErrExhausted means the user's quota is used up: the session must end with LIMIT_REACHED.
var ErrExhausted = errors.New("traffic quota exhausted")

// Leaser asks the control plane for more. A *schemas.RPCError ends the session with its code;
// any other error is retried.
type Leaser interface {
	Lease(ctx context.Context, req schemas.LeaseRequest) (schemas.LeaseGrant, error)
}

type Config struct {
	SessionID string
	GatewayID string
	// Want is the size of one lease request.
	Want int64
	// Retry is the pause between failed lease requests.
	Retry time.Duration
}

type Lease struct {
	cfg    Config
	leaser Leaser

	mu        sync.Mutex
	unlimited bool
	granted   int64
	used      int64
	exhausted bool
	refused   error
	asking    bool
	again     bool
	changed   chan struct{}
	ctx       context.Context
}

// New starts from the first grant of session-open. ctx bounds the lease requests (the session's).
func New(ctx context.Context, cfg Config, leaser Leaser, first schemas.LeaseGrant) *Lease {
	return &Lease{
		cfg: cfg, leaser: leaser, ctx: ctx, changed: make(chan struct{}),
		unlimited: first.Unlimited, granted: first.Granted, exhausted: first.Exhausted,
	}
}

// Take spends up to n bytes. It blocks while a lease request is on its way; it returns fewer than
// n only with an error: ErrExhausted, the control plane's refusal, or ctx's error.
func (l *Lease) Take(ctx context.Context, n int) (int, error) {
	if l == nil || n <= 0 {
		return n, nil
	}
	want := int64(n)
	for {
		l.mu.Lock()
		if l.unlimited {
			l.used += want
			l.mu.Unlock()
			return n, nil
		}
		left := l.granted - l.used
		if left >= want {
			l.used += want
			if !l.exhausted && l.granted-l.used < l.cfg.Want/2 {
				l.askLocked()
			}
			l.mu.Unlock()
			return n, nil
		}
		if l.refused != nil || l.exhausted {
			take := max(0, left)
			l.used += take
			err := l.refused
			if err == nil {
				err = ErrExhausted
			}
			l.mu.Unlock()
			return int(take), err
		}
		l.askLocked()
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// Used is every byte taken so far.
func (l *Lease) Used() int64 {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.used
}

// Refresh applies new limits: unlimited or not, and a limited lease asks again at once: a raised
// quota is granted, a lowered one takes back the unused part of the lease. A request already on
// its way is followed by one more, so the answer reflects the change.
func (l *Lease) Refresh(unlimited bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unlimited = unlimited
	l.exhausted = false
	if !unlimited {
		l.askLocked()
	}
	l.notifyLocked()
}

func (l *Lease) notifyLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *Lease) askLocked() {
	if l.refused != nil {
		return
	}
	if l.asking {
		l.again = true
		return
	}
	l.asking = true
	go l.ask(l.requestLocked())
}

func (l *Lease) requestLocked() schemas.LeaseRequest {
	return schemas.LeaseRequest{SessionID: l.cfg.SessionID, GatewayID: l.cfg.GatewayID, Used: l.used, Held: l.granted, Want: l.cfg.Want}
}

func (l *Lease) ask(req schemas.LeaseRequest) {
	for {
		g, err := l.leaser.Lease(l.ctx, req)
		var re *schemas.RPCError
		l.mu.Lock()
		switch {
		case err == nil:
			l.unlimited, l.exhausted = g.Unlimited, g.Exhausted
			// the grant falls only when the limit was lowered; bytes already moved stay moved
			l.granted = max(l.used, g.Granted)
			if l.again {
				l.again = false
				req = l.requestLocked()
				l.notifyLocked()
				l.mu.Unlock()
				continue
			}
		case errors.As(err, &re):
			l.refused = re
		case l.ctx.Err() != nil:
			l.refused = l.ctx.Err()
		default:
			l.mu.Unlock()
			pause.For(l.ctx, l.cfg.Retry)
			l.mu.Lock()
			req.Used = l.used
			l.mu.Unlock()
			continue
		}
		l.asking = false
		l.notifyLocked()
		l.mu.Unlock()
		return
	}
}
