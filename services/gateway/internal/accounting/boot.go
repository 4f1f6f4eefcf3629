package accounting

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
	"github.com/rs/zerolog"
)

// NewBootID names one run of the gateway process.
func NewBootID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// StampBoot makes every session event of the outbox carry the boot id.
func (o *Outbox) StampBoot(bootID string) { o.bootID = bootID }

// AnnounceBoot publishes the boot to the SESSIONS stream, retrying until it is stored: the
// control plane then ends the sessions an older boot of this gateway id left open.
func (p *Publisher) AnnounceBoot(ctx context.Context, boot schemas.GatewayBoot, log zerolog.Logger) {
	backoff := retryMin
	subject := schemas.SessionSubject(schemas.SessionBootEvent, p.gatewayID)
	for {
		err := p.send(ctx, metrics.OpPublishSession, subject, schemas.BootMsgID(boot.BootID), boot)
		if err == nil {
			log.Info().Str("boot_id", boot.BootID).Msg("boot announced")
			return
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn().Err(err).Dur("retry_in", backoff).Msg("boot announcement failed")
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, retryMax)
	}
}
