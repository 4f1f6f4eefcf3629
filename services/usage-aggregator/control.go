package usageaggregator

import (
	"context"
	"strconv"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/logging"
	"github.com/httvps/httvps/shared/natsx"
)

const limitReason = "monthly traffic limit reached"

func limitEvent(userID int64, now time.Time) schemas.ControlEvent {
	return schemas.ControlEvent{
		Scope:    schemas.ScopeUser,
		ID:       strconv.FormatInt(userID, 10),
		What:     schemas.ControlLimit,
		Code:     schemas.CodeLimitReached,
		Limit:    schemas.LimitTraffic,
		Reason:   limitReason,
		IssuedAt: now.UTC(),
	}
}

// publishLimits runs after the commit that inserted the usage_limit_events rows and stores the events
// in the CONTROL stream. One that could not be stored is covered by validate-device (at hello and at
// the gateways' re-validation), which refuses users over their limit from the same usage_periods.
func (s *Service) publishLimits(users []int64) {
	now := time.Now()
	for _, u := range users {
		ev, err := natsx.PublishControl(context.Background(), s.js, limitEvent(u, now), s.cfg.RequestTimeout)
		if err != nil {
			s.m.publishErrors.WithLabelValues(publishLimit).Inc()
			s.log.Error().Err(err).Int64(logging.FieldUser, u).Msg("publish traffic limit event")
			continue
		}
		s.m.limitEvents.Inc()
		s.log.Info().Int64(logging.FieldUser, u).Str(logging.FieldCode, string(ev.Code)).Msg("traffic limit reached")
	}
}
