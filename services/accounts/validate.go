package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/accounts/internal/token"
	"github.com/httvps/httvps/shared/logging"
	"github.com/httvps/httvps/shared/rpc"
)

const (
	statusActive    = "active"
	statusBanned    = "banned"
	statusPending   = "pending"
	statusRevoked   = "revoked"
	statusExpired   = "expired"
	statusCancelled = "cancelled"
)

func (s *Service) validateDevice(ctx context.Context, req schemas.ValidateDeviceRequest) (schemas.ValidateDeviceReply, error) {
	if err := checkValidateRequest(req); err != nil {
		return schemas.ValidateDeviceReply{}, err
	}
	rep, err := s.decideDevice(ctx, req)
	if err != nil {
		return rep, err
	}
	result := "ok"
	if rep.Error != nil {
		result = string(rep.Error.Code)
		s.log.Debug().Str(logging.FieldDevice, req.DeviceID).Str(logging.FieldRegion, req.Region).
			Str(logging.FieldCode, result).Str(logging.FieldReason, rep.Error.Message).Msg("device refused")
	}
	s.m.validations.WithLabelValues(result).Inc()
	return rep, nil
}

func (s *Service) decideDevice(ctx context.Context, req schemas.ValidateDeviceRequest) (schemas.ValidateDeviceReply, error) {
	claims, err := s.tokens.Verify(req.AccessToken)
	if err != nil {
		return refuse(schemas.CodeInvalidToken, "", err.Error()), nil
	}
	if claims.Subject != req.DeviceID {
		return refuse(schemas.CodeInvalidToken, "", "access token belongs to another device"), nil
	}
	st, err := s.states.read(ctx, req.DeviceID, req.Region)
	if errors.Is(err, errDeviceNotFound) {
		return refuse(schemas.CodeDeviceNotFound, "", fmt.Sprintf("device %s not found", req.DeviceID)), nil
	}
	if err != nil {
		s.m.dbErrors.WithLabelValues(opValidate).Inc()
		s.log.Error().Err(err).Msg("validate device")
		return schemas.ValidateDeviceReply{}, rpc.Errorf(schemas.CodeBackendUnavailable, "accounts database unavailable")
	}
	rep := decide(claims, st, req.Region)
	if rep.OK {
		s.lastSeen.touch(st.DeviceID, time.Now())
	}
	return rep, nil
}

func decide(claims token.Claims, st deviceState, region string) schemas.ValidateDeviceReply {
	switch {
	case st.DeviceStatus != statusActive:
		return refuse(schemas.CodeDeviceRevoked, "", fmt.Sprintf("device %d is %s", st.DeviceID, st.DeviceStatus))
	case claims.Version != st.TokenVersion || claims.UserID != st.UserID:
		return refuse(schemas.CodeInvalidToken, "", "access token was replaced by a newer one or belongs to another user")
	case st.UserStatus == statusBanned:
		return refuse(schemas.CodeUserBanned, "", fmt.Sprintf("user %d is banned", st.UserID))
	case st.UserStatus != statusActive:
		return refuse(schemas.CodeNoSubscription, "", fmt.Sprintf("user %d is %s", st.UserID, st.UserStatus))
	case !st.SubID.Valid:
		return refuse(schemas.CodeNoSubscription, "", fmt.Sprintf("user %d has no subscription", st.UserID))
	case st.SubStatus.String == statusCancelled:
		return refuse(schemas.CodeNoSubscription, "", fmt.Sprintf("subscription %d was cancelled", st.SubID.Int64))
	case st.SubStatus.String != statusActive || !st.SubCurrent.Bool:
		return refuse(schemas.CodeSubscriptionExpired, "", fmt.Sprintf("subscription %d expired at %s",
			st.SubID.Int64, st.ValidUntil.Time.UTC().Format(time.RFC3339)))
	case st.Rank > st.MaxDevices.Int64:
		return refuse(schemas.CodeDeviceLimitReached, schemas.LimitDevices, fmt.Sprintf(
			"plan %s allows %d active devices, this is device %d of %d", st.PlanName.String, st.MaxDevices.Int64, st.Rank, st.ActiveDevices))
	case st.TrafficLimit.Valid && st.UsedBytes >= st.TrafficLimit.Int64:
		return refuse(schemas.CodeLimitReached, schemas.LimitTraffic, fmt.Sprintf(
			"traffic limit of %d bytes reached this month (used %d)", st.TrafficLimit.Int64, st.UsedBytes))
	case !st.RegionKnown:
		return refuse(schemas.CodeRegionUnknown, "", fmt.Sprintf("region %s is unknown", region))
	}
	return accept(st, claims.Subject)
}

func accept(st deviceState, deviceUUID string) schemas.ValidateDeviceReply {
	limits := &schemas.AccountLimits{
		MaxDevices:    int(st.MaxDevices.Int64),
		ActiveDevices: int(st.ActiveDevices),
		UsedBytes:     st.UsedBytes,
		MaxSessions:   int(st.MaxSessions.Int64),
	}
	if st.SpeedLimit.Valid {
		speed := int(st.SpeedLimit.Int64)
		limits.SpeedLimitMbps = &speed
	}
	if st.TrafficLimit.Valid {
		limit, remaining := st.TrafficLimit.Int64, st.TrafficLimit.Int64-st.UsedBytes
		limits.TrafficLimitBytes, limits.RemainingBytes = &limit, &remaining
	}
	return schemas.ValidateDeviceReply{
		OK:     true,
		UserID: st.UserID,
		Device: &schemas.DeviceInfo{ID: st.DeviceID, DeviceID: deviceUUID, Platform: st.Platform, Status: st.DeviceStatus},
		Subscription: &schemas.SubscriptionInfo{
			ID: st.SubID.Int64, PlanID: st.PlanID.Int64, PlanName: st.PlanName.String,
			ValidUntil: st.ValidUntil.Time.UTC(), Status: st.SubStatus.String,
		},
		Limits: limits,
	}
}

func refuse(code schemas.ErrorCode, limit schemas.LimitKind, msg string) schemas.ValidateDeviceReply {
	return schemas.ValidateDeviceReply{Error: &schemas.RPCError{Code: code, Message: msg, Limit: limit}}
}
