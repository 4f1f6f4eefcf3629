package control

import (
	"context"
	"github.com/httvps/httvps/shared/pause"
	"sync"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/session"
	"github.com/httvps/httvps/shared/logging"
	"github.com/nats-io/nats.go"
)

const (
	// retryRounds bounds the rounds after a reconnect while the control plane does not answer.
	retryRounds = 10
	retryDelay  = 500 * time.Millisecond
)

// revalidateLoop validates every live session again after each reconnect to NATS and at the
// interval. After a reconnect, sessions the control plane could not answer for are tried again
// a bounded number of times.
func (c *Control) revalidateLoop(ctx context.Context) {
	reconnected := c.nc.StatusChanged(nats.CONNECTED)
	defer c.nc.RemoveStatusListener(reconnected)
	t := time.NewTicker(c.cfg.RevalidateInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reconnected:
			c.log.Info().Msg("reconnected to NATS, validating live sessions again")
			for round := 0; round < retryRounds && c.revalidate(ctx) > 0; round++ {
				if !pause.For(ctx, retryDelay) {
					return
				}
			}
		case <-t.C:
			c.revalidate(ctx)
		}
	}
}

// revalidate asks validate-device for every live session, ends those refused for good and
// returns how many got no answer.
func (c *Control) revalidate(ctx context.Context) int {
	live := c.sessions.Live()
	work := make(chan session.Live)
	var mu sync.Mutex
	unanswered := 0
	var wg sync.WaitGroup
	for range min(c.cfg.Workers, len(live)) {
		wg.Go(func() {
			for s := range work {
				if !c.revalidateOne(ctx, s) {
					mu.Lock()
					unanswered++
					mu.Unlock()
				}
			}
		})
	}
	for _, s := range live {
		if ctx.Err() != nil {
			break
		}
		work <- s
	}
	close(work)
	wg.Wait()
	return unanswered
}

func (c *Control) revalidateOne(ctx context.Context, s session.Live) bool {
	_, refusal := c.validate.ValidateDevice(ctx, schemas.ValidateDeviceRequest{
		DeviceID: s.Hello.DeviceID, AccessToken: s.Hello.AccessToken, Region: s.Hello.Region,
		ClientVersion: s.Hello.ClientVersion, Platform: s.Hello.Platform,
	})
	switch {
	case refusal == nil:
		c.m.validations.WithLabelValues(outcomeValid).Inc()
		return true
	case refusal.Code == schemas.CodeBackendUnavailable:
		c.m.validations.WithLabelValues(outcomeUnavailable).Inc()
		return false
	}
	ev, ends := eventFor(s.ID, refusal)
	if !ends {
		c.m.validations.WithLabelValues(outcomeValid).Inc()
		return true
	}
	c.m.validations.WithLabelValues(outcomeEnded).Inc()
	if n := c.sessions.Control(ev, c.cfg.GatewayID); n > 0 {
		c.m.ended.WithLabelValues(sourceRevalidate).Add(float64(n))
		c.log.Info().Str(logging.FieldSession, s.ID).Str(logging.FieldCode, string(refusal.Code)).Msg("re-validation ended the session")
	}
	return true
}

// eventFor turns a refusal into the control event that ends the session. Refusals that only
// matter for a new session (an expired token, a region or device count) leave it running.
func eventFor(sessionID string, refusal *schemas.RPCError) (schemas.ControlEvent, bool) {
	ev := schemas.ControlEvent{Scope: schemas.ScopeSession, ID: sessionID, Code: refusal.Code, Limit: refusal.Limit,
		Reason: refusal.Message, IssuedAt: time.Now().UTC()}
	if !session.EndsLive(refusal) {
		return ev, false
	}
	switch refusal.Code {
	case schemas.CodeDeviceRevoked, schemas.CodeDeviceBanned, schemas.CodeDeviceNotFound:
		ev.What = schemas.ControlRevoke
	case schemas.CodeLimitReached:
		ev.What = schemas.ControlLimit
	default:
		ev.What = schemas.ControlKick
	}
	return ev, true
}
