package usageaggregator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// maxSessionBytes bounds one session's totals (1 PiB) so that sums per user and month cannot overflow bigint.
const maxSessionBytes = int64(1) << 50

const maxTextLen = 128

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad json: %w", err)
	}
	if dec.More() {
		return errors.New("bad json: trailing data after the object")
	}
	return nil
}

func decodeUsage(msg jetstream.Msg) (sessionTotals, error) {
	var r schemas.UsageReport
	if err := decodeStrict(msg.Data(), &r); err != nil {
		return sessionTotals{}, err
	}
	v := fieldChecks{}
	v.sessionID(r.SessionID)
	v.id("user_id", r.UserID)
	v.id("outline_node_id", r.OutlineNodeID)
	v.text("gateway_id", r.GatewayID)
	v.text("region", r.Region)
	v.required("device_id", r.DeviceID)
	v.seq(r.Seq)
	v.bytes("bytes_up", r.BytesUp)
	v.bytes("bytes_down", r.BytesDown)
	v.bytes("delta_up", r.DeltaUp)
	v.bytes("delta_down", r.DeltaDown)
	if v.err != nil {
		return sessionTotals{}, v.err
	}
	gateway, err := subjectGateway(r.GatewayID, msg.Subject())
	if err != nil {
		return sessionTotals{}, err
	}
	reportedAt := messageTime(msg)
	return sessionTotals{
		SessionID:     strings.ToLower(r.SessionID),
		UserID:        r.UserID,
		DeviceUUID:    r.DeviceID,
		GatewayID:     gateway,
		Region:        r.Region,
		OutlineNodeID: r.OutlineNodeID,
		Seq:           int64(r.Seq),
		Up:            r.BytesUp,
		Down:          r.BytesDown,
		StartedAt:     orTime(r.StartedAt, reportedAt),
		ReportedAt:    reportedAt,
		Reports:       1,
	}, nil
}

type fieldChecks struct{ err error }

func (v *fieldChecks) fail(field, format string, args ...any) {
	if v.err == nil {
		v.err = fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...))
	}
}

func (v *fieldChecks) sessionID(s string) {
	switch {
	case s == "":
		v.fail("session_id", "required")
	case !isUUID(s):
		v.fail("session_id", "must be a UUID, got %q", truncate(s))
	}
}

func (v *fieldChecks) id(field string, n int64) {
	if n < 0 {
		v.fail(field, "must not be negative, got %d", n)
	}
}

func (v *fieldChecks) text(field, s string) {
	if len(s) > maxTextLen {
		v.fail(field, "longer than %d bytes", maxTextLen)
	}
}

func (v *fieldChecks) required(field, s string) {
	if s == "" {
		v.fail(field, "required")
	}
	v.text(field, s)
}

func (v *fieldChecks) seq(n uint64) {
	if n > math.MaxInt64 {
		v.fail("seq", "must be at most %d, got %d", int64(math.MaxInt64), n)
	}
}

func (v *fieldChecks) bytes(field string, n int64) {
	switch {
	case n < 0:
		v.fail(field, "must not be negative, got %d", n)
	case n > maxSessionBytes:
		v.fail(field, "must be at most %d, got %d", maxSessionBytes, n)
	}
}

// lastToken is the gateway id of usage and session subjects.
func lastToken(subject string) string {
	return subject[strings.LastIndexByte(subject, '.')+1:]
}

// subjectGateway is the gateway that published on subject: NATS lets a gateway publish only under
// its own id, so a body naming another gateway is refused; a body without one takes the subject's.
func subjectGateway(body, subject string) (string, error) {
	from := lastToken(subject)
	if body != "" && body != from {
		return "", fmt.Errorf("gateway_id: %q differs from the gateway of subject %s", truncate(body), subject)
	}
	return from, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func orTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t.UTC()
}

func sentAt(t time.Time, msg jetstream.Msg) time.Time {
	if t.IsZero() {
		return messageTime(msg)
	}
	return t.UTC()
}

// messageTime is when the NATS server stored the message: usage is booked by this clock, never
// by the gateway's.
func messageTime(msg jetstream.Msg) time.Time {
	if md, err := msg.Metadata(); err == nil && !md.Timestamp.IsZero() {
		return md.Timestamp.UTC()
	}
	return time.Now().UTC()
}
