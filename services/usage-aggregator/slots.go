package usageaggregator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go/micro"
	"github.com/uptrace/bun"
)

const opSlots = "slots"

// refused rolls a slot transaction back and becomes the reply's error.
type refused struct{ re *schemas.RPCError }

func (r refused) Error() string { return r.re.Error() }

func refuse(code schemas.ErrorCode, limit schemas.LimitKind, format string, args ...any) refused {
	return refused{&schemas.RPCError{Code: code, Limit: limit, Message: fmt.Sprintf(format, args...)}}
}

// slotServer serves the gateways' session slots and traffic leases on a pool of workers: the
// decisions of different users run side by side, those of one user one after another (row lock).
type slotServer struct {
	svc  micro.Service
	pool *rpc.Pool
}

// Stop takes the endpoints off NATS and waits for the requests already queued.
func (ss slotServer) Stop() error {
	err := ss.svc.Stop()
	ss.pool.Close()
	return err
}

func (s *Service) startSlots(ctx context.Context) (slotServer, error) {
	svc, err := micro.AddService(s.nc, micro.Config{
		Name:        schemas.ServiceUsageSlots,
		Version:     ServiceVersion,
		Description: "HTTVPS live-session slots and traffic leases for gateways",
	})
	if err != nil {
		return slotServer{}, fmt.Errorf("usage-aggregator: add slots service: %w", err)
	}
	pool := rpc.NewPool(s.cfg.SlotWorkers, ServiceName)
	srv := rpc.Server{Ctx: ctx, Log: s.log, Metrics: s.m.rpc, Timeout: s.cfg.RequestTimeout}
	endpoints := []struct {
		name, subject string
		handler       micro.Handler
	}{
		{"session-open", schemas.SubjectSessionOpen, rpc.HandleSubject(srv, "session-open", fromGateway(schemas.SubjectSessionOpen, s.openSession))},
		{"lease", schemas.SubjectSessionLease, rpc.HandleSubject(srv, "lease", fromGateway(schemas.SubjectSessionLease, s.lease))},
		{"session-close", schemas.SubjectSessionClose, rpc.HandleSubject(srv, "session-close", fromGateway(schemas.SubjectSessionClose, s.closeSession))},
		{"keepalive", schemas.SubjectSessionKeepalive, rpc.HandleSubject(srv, "keepalive", fromGateway(schemas.SubjectSessionKeepalive, s.keepalive))},
	}
	for _, e := range endpoints {
		if err := svc.AddEndpoint(e.name, pool.Wrap(e.handler), micro.WithEndpointSubject(schemas.SlotEndpoint(e.subject))); err != nil {
			_ = slotServer{svc, pool}.Stop()
			return slotServer{}, fmt.Errorf("usage-aggregator: add endpoint %s: %w", e.name, err)
		}
	}
	if err := s.nc.Flush(); err != nil {
		_ = slotServer{svc, pool}.Stop()
		return slotServer{}, fmt.Errorf("usage-aggregator: flush slot endpoints: %w", err)
	}
	return slotServer{svc, pool}, nil
}

// fromGateway serves a slot request only from the gateway its subject names, which NATS lets
// no other gateway publish to: a gateway cannot open, lease, renew or close another's slots.
func fromGateway[Req schemas.SlotRequest, Rep any](base string, fn rpc.Func[Req, Rep]) rpc.SubjectFunc[Req, Rep] {
	return func(ctx context.Context, subject string, req Req) (Rep, error) {
		if gw, ok := schemas.SlotGateway(base, subject); !ok || gw != req.Gateway() {
			var zero Rep
			return zero, rpc.Errorf(schemas.CodeInvalidArgument, "gateway_id: %q differs from the gateway of subject %s", req.Gateway(), subject)
		}
		return fn(ctx, req)
	}
}

// slotTx runs fn in a transaction; a refusal rolls it back and is returned as is.
func (s *Service) slotTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) (*schemas.RPCError, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.DBTimeout)
	defer cancel()
	err := s.db.RunInTx(ctx, nil, fn)
	var r refused
	if errors.As(err, &r) {
		return r.re, nil
	}
	if err != nil {
		s.m.dbErrors.WithLabelValues(opSlots).Inc()
		return nil, rpc.Errorf(schemas.CodeBackendUnavailable, "usage database unavailable")
	}
	return nil, nil
}

type userLimits struct {
	traffic     sql.NullInt64
	maxSessions int64
	plan        string
}

func readLimits(ctx context.Context, tx bun.Tx, userID int64) (userLimits, error) {
	var l userLimits
	err := tx.QueryRowContext(ctx, userLimitsSQL, userID).Scan(&l.traffic, &l.maxSessions, &l.plan)
	if errors.Is(err, sql.ErrNoRows) {
		return l, refuse(schemas.CodeNoSubscription, "", "user %d has no current subscription", userID)
	}
	if err != nil {
		return l, fmt.Errorf("read limits: %w", err)
	}
	return l, nil
}

func lockUser(ctx context.Context, tx bun.Tx, userID int64) error {
	var id int64
	if err := tx.QueryRowContext(ctx, lockUserSQL, userID).Scan(&id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return refuse(schemas.CodeNotFound, "", "user %d not found", userID)
		}
		return fmt.Errorf("lock user: %w", err)
	}
	return nil
}

// available is what remains of the user's quota after usage and every live lease; asking and used
// name the session that asks and what it moved so far ("" for a new session).
func available(ctx context.Context, tx bun.Tx, userID, limit int64, asking string, used int64) (int64, error) {
	var committed int64
	if err := tx.QueryRowContext(ctx, committedSQL, userID, asking, used, userID).Scan(&committed); err != nil {
		return 0, fmt.Errorf("read committed traffic: %w", err)
	}
	return limit - committed, nil
}

func liveSlots(ctx context.Context, tx bun.Tx, userID int64, except string) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, liveSlotsSQL, userID, except).Scan(&n); err != nil {
		return 0, fmt.Errorf("count live slots: %w", err)
	}
	return n, nil
}

func (s *Service) ttlSeconds() float64 { return s.cfg.SlotTTL.Seconds() }

func (s *Service) ttlMS() int64 { return s.cfg.SlotTTL.Milliseconds() }

func utcNow() time.Time { return time.Now().UTC() }
