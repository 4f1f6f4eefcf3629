package system

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

const pingWindow = 200 * time.Millisecond

var errExited = errors.New("exited before it was ready")

// waitClosed waits for ready, at most timeout; exited closing first is an error.
func waitClosed(ctx context.Context, ready, exited <-chan struct{}, timeout time.Duration) error {
	select {
	case <-ready:
		return nil
	case <-exited:
		return errExited
	case <-time.After(timeout):
		return fmt.Errorf("not ready within %s", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitResponders pings the micro service name until at least n distinct instances answer,
// at most timeout.
func waitResponders(ctx context.Context, nc *nats.Conn, name string, n int, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		got, err := countResponders(nc, "$SRV.PING."+name, n)
		if err == nil && got >= n {
			return nil
		}
		select {
		case <-exited:
			return errExited
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d copies of %s answer after %s", got, n, name, timeout)
		}
	}
}

func countResponders(nc *nats.Conn, subject string, want int) (int, error) {
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return 0, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		return 0, err
	}
	ids := map[string]bool{}
	end := time.Now().Add(pingWindow)
	for len(ids) < want {
		msg, err := sub.NextMsg(time.Until(end))
		if err != nil {
			break
		}
		var ping struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(msg.Data, &ping) == nil && ping.ID != "" {
			ids[ping.ID] = true
		}
	}
	return len(ids), nil
}
