package rpc

import (
	"context"
	"encoding/json"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/nats-io/nats.go/micro"
	"github.com/rs/zerolog"
)

type Func[Req, Rep any] func(ctx context.Context, req Req) (Rep, error)

type Server struct {
	Ctx     context.Context
	Log     zerolog.Logger
	Metrics *Metrics
	Timeout time.Duration
}

// SubjectFunc is a Func that also gets the subject the request came on.
type SubjectFunc[Req, Rep any] func(ctx context.Context, subject string, req Req) (Rep, error)

func Handle[Req, Rep any](s Server, endpoint string, fn Func[Req, Rep]) micro.Handler {
	return HandleSubject(s, endpoint, func(ctx context.Context, _ string, req Req) (Rep, error) { return fn(ctx, req) })
}

// HandleSubject serves fn, which decides on the request's subject too (a wildcard endpoint).
func HandleSubject[Req, Rep any](s Server, endpoint string, fn SubjectFunc[Req, Rep]) micro.Handler {
	return micro.HandlerFunc(func(r micro.Request) {
		start := time.Now()
		result := s.serve(r, endpoint, func(ctx context.Context) (any, error) {
			var req Req
			if err := Decode(r.Data(), &req); err != nil {
				return nil, err
			}
			return fn(ctx, r.Subject(), req)
		})
		if s.Metrics != nil {
			s.Metrics.Requests.WithLabelValues(endpoint, result).Inc()
			s.Metrics.Latency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
		}
	})
}

func (s Server) serve(r micro.Request, endpoint string, call func(ctx context.Context) (any, error)) string {
	ctx := s.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	rep, err := call(ctx)
	if err != nil {
		re, ok := AsRPCError(err)
		if !ok {
			s.Log.Error().Err(err).Str("endpoint", endpoint).Msg("request failed")
			re = &schemas.RPCError{Code: schemas.CodeInternal, Message: "internal error"}
		}
		data, _ := json.Marshal(re)
		if rerr := r.Error(string(re.Code), re.Message, data); rerr != nil {
			s.Log.Warn().Err(rerr).Str("endpoint", endpoint).Msg("respond")
		}
		return string(re.Code)
	}
	if rerr := r.RespondJSON(rep); rerr != nil {
		s.Log.Warn().Err(rerr).Str("endpoint", endpoint).Msg("respond")
	}
	return "ok"
}

type AdminFunc func(ctx context.Context, req schemas.AdminRequest) (data any, total int64, err error)

func HandleAdmin(s Server, endpoint string, fn AdminFunc) micro.Handler {
	return Handle(s, endpoint, func(ctx context.Context, req schemas.AdminRequest) (schemas.AdminReply, error) {
		data, total, err := fn(ctx, req)
		if err != nil {
			return schemas.AdminReply{}, err
		}
		raw, err := json.Marshal(data)
		if err != nil {
			return schemas.AdminReply{}, err
		}
		return schemas.AdminReply{OK: true, Data: raw, Total: total}, nil
	})
}
