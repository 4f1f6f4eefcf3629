package accounts

import (
	"regexp"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
)

const maxShortText = 64

var deviceUUIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func checkValidateRequest(req schemas.ValidateDeviceRequest) error {
	switch {
	case req.DeviceID == "":
		return rpc.Errorf(schemas.CodeInvalidArgument, "device_id: required")
	case !deviceUUIDPattern.MatchString(req.DeviceID):
		return rpc.Errorf(schemas.CodeInvalidArgument, "device_id: must be 1 to 64 letters, digits, '-' or '_'")
	case req.AccessToken == "":
		return rpc.Errorf(schemas.CodeInvalidArgument, "access_token: required")
	case req.Region == "":
		return rpc.Errorf(schemas.CodeInvalidArgument, "region: required")
	case len(req.Region) > maxShortText || schemas.ValidToken(req.Region) != nil:
		return rpc.Errorf(schemas.CodeInvalidArgument, "region: must be at most 64 characters without '.', '*', '>' or white space")
	case len(req.ClientVersion) > maxShortText:
		return rpc.Errorf(schemas.CodeInvalidArgument, "client_version: must be at most 64 characters")
	case len(req.Platform) > maxShortText:
		return rpc.Errorf(schemas.CodeInvalidArgument, "platform: must be at most 64 characters")
	}
	return nil
}
