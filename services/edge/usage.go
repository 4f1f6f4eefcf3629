package edge

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/httvps/httvps/schemas"
)

type usageReportBody struct {
	GatewayID     string  `json:"gateway_id"`
	DeviceID      string  `json:"device_id"`
	SessionID     string  `json:"session_id"`
	BytesUp       *int64  `json:"bytes_up"`
	BytesDown     *int64  `json:"bytes_down"`
	StartedAt     *string `json:"started_at"`
	EndedAt       *string `json:"ended_at"`
	Region        string  `json:"region"`
	UserID        int64   `json:"user_id"`
	OutlineNodeID int64   `json:"outline_node_id"`
	Seq           *uint64 `json:"seq"`

	report schemas.UsageReport
}

func (b *usageReportBody) validate() *apiError {
	var f fields
	f.token("gateway_id", b.GatewayID, true)
	f.deviceID("device_id", b.DeviceID)
	b.SessionID = strings.ToLower(b.SessionID)
	f.uuid("session_id", b.SessionID)
	up := f.nonNegative("bytes_up", b.BytesUp)
	down := f.nonNegative("bytes_down", b.BytesDown)
	started := f.time("started_at", b.StartedAt, true)
	ended := f.time("ended_at", b.EndedAt, false)
	if started != nil && ended != nil && ended.Before(*started) {
		f.fail("ended_at", "must not be before started_at")
	}
	f.token("region", b.Region, false)
	if b.UserID < 0 {
		f.fail("user_id", "must be a positive integer")
	}
	if b.OutlineNodeID < 0 {
		f.fail("outline_node_id", "must be a positive integer")
	}
	if f.err != nil {
		return f.err
	}
	b.report = schemas.UsageReport{
		SessionID:     b.SessionID,
		GatewayID:     b.GatewayID,
		Region:        b.Region,
		UserID:        b.UserID,
		DeviceID:      b.DeviceID,
		OutlineNodeID: b.OutlineNodeID,
		BytesUp:       up,
		BytesDown:     down,
		StartedAt:     *started,
		EndedAt:       ended,
		Final:         ended != nil,
	}
	if b.Seq != nil {
		b.report.Seq = *b.Seq
	}
	return nil
}

// restUsageMsgID makes an identical retry of a REST report a JetStream duplicate.
func restUsageMsgID(r schemas.UsageReport) string {
	id := "rest:" + r.SessionID + ":" + strconv.FormatInt(r.BytesUp, 10) + ":" + strconv.FormatInt(r.BytesDown, 10)
	if r.Final {
		id += ":final"
	}
	return id
}

func (s *Service) usageReport(c *fiber.Ctx) error {
	var body usageReportBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	report := body.report
	report.ReportedAt = time.Now().UTC()
	ack, err := s.publish(c.UserContext(), schemas.StreamUsage, schemas.UsageSubject(report.Region, report.GatewayID),
		restUsageMsgID(report), report)
	if err != nil {
		return err
	}
	return accepted(c, ack)
}
