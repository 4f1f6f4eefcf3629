package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go"
)

type Client struct {
	NC      *nats.Conn
	Timeout time.Duration
}

func (c Client) Call(ctx context.Context, resource, verb string, req schemas.AdminRequest, out any) error {
	rep, err := rpc.Call[schemas.AdminReply](ctx, c.NC, schemas.AdminSubject(resource, verb), req, c.Timeout)
	if err != nil {
		return fmt.Errorf("admin %s %s: %w", resource, verb, err)
	}
	if !rep.OK {
		return fmt.Errorf("admin %s %s: refused: %v", resource, verb, rep.Error)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(rep.Data, out); err != nil {
		return fmt.Errorf("admin %s %s: decode: %w", resource, verb, err)
	}
	return nil
}
