package session

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/session/quota"
	"github.com/httvps/httvps/services/gateway/internal/session/shaper"
	"github.com/httvps/httvps/shared/logging"
)

// Slots is the control plane's live-session slots and traffic leases. Without it (nil) sessions
// claim no slot and move unlimited traffic; speed limits still apply.
type Slots interface {
	OpenSession(ctx context.Context, req schemas.SessionOpenRequest) (schemas.SessionOpenReply, *schemas.RPCError)
	Lease(ctx context.Context, req schemas.LeaseRequest) (schemas.LeaseGrant, error)
	CloseSession(ctx context.Context, req schemas.SessionCloseRequest) error
}

const (
	slotCloseTimeout = 5 * time.Second
	leaseRetry       = 500 * time.Millisecond
)

// sessionLimits are the policies of one session: its traffic lease, one bucket per direction, and
// the plan they come from (control events of scope plan name it).
type sessionLimits struct {
	quota    *quota.Lease
	up, down *shaper.Bucket
	slot     bool
	plan     atomic.Int64
}

func (l *sessionLimits) setPlan(sub *schemas.SubscriptionInfo) {
	if sub != nil {
		l.plan.Store(sub.PlanID)
	}
}

// openSlot claims the session's slot with its first lease and sets up the speed limit.
func (s *Session) openSlot(reply schemas.ValidateDeviceReply) *schemas.RPCError {
	var speed *int
	if reply.Limits != nil {
		speed = reply.Limits.SpeedLimitMbps
	}
	s.limits.up, s.limits.down = shaper.New(speed), shaper.New(speed)
	s.limits.setPlan(reply.Subscription)
	slots := s.srv.Slots
	if slots == nil {
		return nil
	}
	rep, refusal := slots.OpenSession(s.srv.ctx, schemas.SessionOpenRequest{
		SessionID: s.id, GatewayID: s.srv.GatewayID, DeviceID: s.hello.DeviceID, Want: int64(s.srv.Limits.LeaseBytes),
	})
	if refusal != nil {
		return refusal
	}
	s.limits.slot = true
	s.limits.quota = quota.New(s.ctx, quota.Config{
		SessionID: s.id, GatewayID: s.srv.GatewayID, Want: int64(s.srv.Limits.LeaseBytes), Retry: leaseRetry,
	}, slots, *rep.Lease)
	if len(rep.Replaced) > 0 {
		s.log.Info().Strs("replaced", rep.Replaced).Msg("session replaces the live session of its device")
	}
	return nil
}

// closeSlot returns the slot and the unused lease; a slot not returned expires on its own. What
// the session used is what it relayed (its final usage report): bytes taken from the lease but
// dropped at the end return to the user.
func (s *Session) closeSlot() {
	if !s.limits.slot {
		return
	}
	s.limits.slot = false
	ctx, cancel := context.WithTimeout(context.Background(), slotCloseTimeout)
	defer cancel()
	up, down := s.usage.Totals()
	err := s.srv.Slots.CloseSession(ctx, schemas.SessionCloseRequest{SessionID: s.id, GatewayID: s.srv.GatewayID, Used: up + down})
	if err != nil {
		s.log.Warn().Err(err).Msg("session slot not returned; it expires on its own")
	}
}

// admitUp and admitDown shape n bytes of a stream and charge them to the lease. They return how
// many may pass, and true when the session is ending (its quota is used up, or it was ended).
func (s *Session) admitUp(ctx context.Context, n int) (int, bool) {
	return s.admit(ctx, s.limits.up, n)
}

func (s *Session) admitDown(ctx context.Context, n int) (int, bool) {
	return s.admit(ctx, s.limits.down, n)
}

func (s *Session) admit(ctx context.Context, b *shaper.Bucket, n int) (int, bool) {
	if n <= 0 {
		return n, false
	}
	if err := b.Wait(ctx, n); err != nil {
		return 0, true
	}
	return s.charge(ctx, n)
}

// chargeDatagram takes a datagram's bytes from the traffic quota (datagrams are not shaped:
// UDP drops rather than waits); false when it must be dropped.
func (s *Session) chargeDatagram(ctx context.Context, n int) bool {
	k, stop := s.charge(ctx, n)
	return !stop && k == n
}

// charge takes n bytes from the lease, ending the session when no more traffic is granted.
func (s *Session) charge(ctx context.Context, n int) (int, bool) {
	k, err := s.limits.quota.Take(ctx, n)
	if err == nil {
		return k, false
	}
	var re *schemas.RPCError
	switch {
	case errors.Is(err, quota.ErrExhausted):
		s.terminate(ending{code: schemas.CodeLimitReached, limit: schemas.LimitTraffic, reason: schemas.EndReasonLimit,
			message: "the monthly traffic limit is reached"})
	case errors.As(err, &re):
		s.terminate(endingForCode(re.Code, re.Message))
	}
	return k, true
}

// refresh re-validates the session after its limits changed: new speed, a new lease, or its end.
func (s *Session) refresh() {
	reply, refusal := s.srv.Backend.ValidateDevice(s.ctx, schemas.ValidateDeviceRequest{
		DeviceID: s.hello.DeviceID, AccessToken: s.hello.AccessToken, Region: s.hello.Region,
		ClientVersion: s.hello.ClientVersion, Platform: s.hello.Platform,
	})
	switch {
	case s.ctx.Err() != nil:
		return
	case refusal != nil && refusal.Code == schemas.CodeBackendUnavailable:
		s.log.Warn().Str(logging.FieldReason, refusal.Message).Msg("limits not refreshed: the control plane did not answer")
		return
	case refusal != nil && !EndsLive(refusal):
		s.log.Info().Str(logging.FieldCode, string(refusal.Code)).Msg("limits not refreshed: the refusal only concerns new sessions")
		return
	case refusal != nil:
		e := endingForCode(refusal.Code, refusal.Message)
		e.limit = refusal.Limit
		s.terminate(e)
		return
	}
	l := reply.Limits
	if l == nil {
		l = &schemas.AccountLimits{}
	}
	s.limits.setPlan(reply.Subscription)
	s.limits.up.SetRate(l.SpeedLimitMbps)
	s.limits.down.SetRate(l.SpeedLimitMbps)
	s.limits.quota.Refresh(l.TrafficLimitBytes == nil)
	s.log.Info().Msg("session limits refreshed")
}

func endingForCode(code schemas.ErrorCode, message string) ending {
	e := ending{code: code, message: message, reason: schemas.EndReasonKicked}
	switch code {
	case schemas.CodeSessionReplaced:
		e.reason = schemas.EndReasonReplaced
	case schemas.CodeLimitReached:
		e.reason = schemas.EndReasonLimit
	case schemas.CodeDeviceRevoked:
		e.reason = schemas.EndReasonRevoked
	}
	return e
}

// EndsLive reports whether a refusal of validate-device ends a live session. Refusals that only
// matter for a new session (an expired token, a region, the device count, the session count)
// leave it running.
func EndsLive(r *schemas.RPCError) bool {
	switch r.Code {
	case schemas.CodeDeviceRevoked, schemas.CodeDeviceBanned, schemas.CodeDeviceNotFound,
		schemas.CodeUserBanned, schemas.CodeNoSubscription, schemas.CodeSubscriptionExpired:
		return true
	case schemas.CodeLimitReached:
		return r.Limit == "" || r.Limit == schemas.LimitTraffic
	}
	return false
}
