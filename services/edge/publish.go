package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Accepted is the answer of every endpoint that publishes to JetStream: the stream acked it.
type Accepted struct {
	OK        bool   `json:"ok"`
	Stream    string `json:"stream"`
	Seq       uint64 `json:"seq"`
	Duplicate bool   `json:"duplicate"`
}

func (s *Service) publish(ctx context.Context, stream, subject, msgID string, payload any) (*jetstream.PubAck, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return nil, internal(fmt.Errorf("encode %s: %w", subject, err))
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	msg := nats.NewMsg(subject)
	msg.Data = data
	opts := []jetstream.PublishOpt{jetstream.WithExpectStream(stream)}
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	ack, err := s.js.PublishMsg(ctx, msg, opts...)
	if err != nil {
		return nil, unavailable("JetStream stream "+stream, fmt.Errorf("publish %s: %w", subject, err))
	}
	return ack, nil
}

func accepted(c *fiber.Ctx, ack *jetstream.PubAck) error {
	return c.Status(http.StatusAccepted).JSON(Accepted{OK: true, Stream: ack.Stream, Seq: ack.Sequence, Duplicate: ack.Duplicate})
}
