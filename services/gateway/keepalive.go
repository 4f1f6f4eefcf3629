package gateway

import (
	"context"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/backend"
	"github.com/httvps/httvps/shared/logging"
)

const keepaliveBatch = 5000

// keepSlots renews the slots of the live sessions until ctx ends; slots it stops renewing (a
// crashed gateway) expire in the usage-aggregator after HTTVPS_SESSION_SLOT_TTL.
func (s *Service) keepSlots(ctx context.Context, bk *backend.Client) {
	t := time.NewTicker(s.cfg.KeepaliveInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids := s.sessions.Registry().SlotSessions()
		for len(ids) > 0 && ctx.Err() == nil {
			batch := ids[:min(len(ids), keepaliveBatch)]
			ids = ids[len(batch):]
			unknown, err := bk.Keepalive(ctx, schemas.KeepaliveRequest{GatewayID: s.cfg.GatewayID, SessionIDs: batch})
			if err != nil {
				s.log.Warn().Err(err).Msg("session slots not renewed")
				break
			}
			// a session whose slot expired (the gateway was cut off longer than the slot TTL) goes on:
			// its next lease is refused, and a ban or revoke replayed from CONTROL still ends it
			if len(unknown) > 0 {
				s.log.Warn().Int(logging.FieldCount, len(unknown)).Msg("live sessions whose slots expired")
			}
		}
	}
}
