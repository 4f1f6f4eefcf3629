package edge

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
)

type validateDeviceBody schemas.ValidateDeviceRequest

func (b *validateDeviceBody) validate() *apiError {
	var f fields
	f.deviceID("device_id", b.DeviceID)
	f.text("access_token", b.AccessToken, true, 4096)
	f.token("region", b.Region, true)
	f.text("client_version", b.ClientVersion, false, 64)
	f.text("platform", b.Platform, false, 64)
	return f.err
}

func (s *Service) validateDevice(c *fiber.Ctx) error {
	var body validateDeviceBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	rep, err := rpc.Call[schemas.ValidateDeviceReply](c.UserContext(), s.nc, schemas.SubjectValidateDevice,
		schemas.ValidateDeviceRequest(body), s.cfg.RequestTimeout)
	if err != nil {
		return fromRPC("accounts", err)
	}
	if !rep.OK {
		return refusal(rep.Error)
	}
	return c.Status(http.StatusOK).JSON(rep)
}

type assignOutlineBody schemas.AssignOutlineRequest

func (b *assignOutlineBody) validate() *apiError {
	var f fields
	f.token("region", b.Region, true)
	f.positive("user_id", b.UserID)
	f.deviceID("device_id", b.DeviceID)
	seen := map[int64]bool{}
	for _, id := range b.ExcludeNodeIDs {
		if id <= 0 || seen[id] {
			f.fail("exclude_node_ids", "must hold distinct positive node ids")
			break
		}
		seen[id] = true
	}
	return f.err
}

func (s *Service) assignOutline(c *fiber.Ctx) error {
	var body assignOutlineBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	rep, err := rpc.Call[schemas.AssignOutlineReply](c.UserContext(), s.nc, schemas.SubjectAssignOutline,
		schemas.AssignOutlineRequest(body), s.cfg.RequestTimeout)
	if err != nil {
		return fromRPC("node-registry", err)
	}
	if !rep.OK || rep.Node == nil {
		return refusal(rep.Error)
	}
	return c.Status(http.StatusOK).JSON(rep)
}

// refusal is an owner's answer ok:false without an error header.
func refusal(re *schemas.RPCError) *apiError {
	if re == nil || re.Code == "" {
		return internal(errMissingCode)
	}
	return fromCode(re)
}
