package edge

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
)

const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// ListPage is the body of every admin list.
type ListPage struct {
	Items  json.RawMessage `json:"items"`
	Total  int64           `json:"total"`
	Limit  int             `json:"limit"`
	Offset int             `json:"offset"`
}

type adminCall struct {
	cmd    schemas.AdminCommand
	status int
}

func (s *Service) admin(ac adminCall, build func(c *fiber.Ctx) (schemas.AdminRequest, *apiError)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		req, aerr := build(c)
		if aerr != nil {
			return aerr
		}
		rep, err := rpc.Call[schemas.AdminReply](c.UserContext(), s.nc, ac.cmd.Subject(), req, s.cfg.RequestTimeout)
		if err != nil {
			return fromRPC(ac.cmd.Owner, err)
		}
		if !rep.OK {
			return refusal(rep.Error)
		}
		data := rep.Data
		if len(data) == 0 {
			data = json.RawMessage("null")
		}
		if ac.cmd.Verb == schemas.VerbList {
			if bytes.Equal(data, []byte("null")) {
				data = json.RawMessage("[]")
			}
			return c.Status(http.StatusOK).JSON(ListPage{Items: data, Total: rep.Total, Limit: req.Limit, Offset: req.Offset})
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(ac.status).Send(data)
	}
}

func listRequest(c *fiber.Ctx) (schemas.AdminRequest, *apiError) {
	req := schemas.AdminRequest{Limit: DefaultListLimit}
	var aerr *apiError
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		key, val := string(k), string(v)
		switch key {
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > MaxListLimit {
				aerr = firstErr(aerr, newError(schemas.CodeInvalidArgument, "query limit: must be a whole number from 1 to %d", MaxListLimit))
			}
			req.Limit = n
		case "offset":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				aerr = firstErr(aerr, newError(schemas.CodeInvalidArgument, "query offset: must be a whole number, 0 or more"))
			}
			req.Offset = n
		default:
			if req.Filter == nil {
				req.Filter = map[string]string{}
			}
			if _, dup := req.Filter[key]; dup {
				aerr = firstErr(aerr, newError(schemas.CodeInvalidArgument, "query %s: given twice", key))
			}
			req.Filter[key] = val
		}
	})
	return req, aerr
}

// targetRequest names the row: a numeric path id becomes ID, anything else Key.
func targetRequest(c *fiber.Ctx) (schemas.AdminRequest, *apiError) {
	raw := c.Params("id")
	if id, err := strconv.ParseInt(raw, 10, 64); err == nil {
		if id <= 0 {
			return schemas.AdminRequest{}, newError(schemas.CodeInvalidArgument, "path id: must be a positive integer or a key")
		}
		return schemas.AdminRequest{ID: id}, nil
	}
	return schemas.AdminRequest{Key: raw}, nil
}

func idRequest(c *fiber.Ctx) (schemas.AdminRequest, *apiError) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return schemas.AdminRequest{}, newError(schemas.CodeInvalidArgument, "path id: must be a positive integer")
	}
	return schemas.AdminRequest{ID: id}, nil
}

// idBodyRequest is a numeric path id with an optional JSON object body.
func idBodyRequest(c *fiber.Ctx) (schemas.AdminRequest, *apiError) {
	req, aerr := idRequest(c)
	if aerr != nil {
		return req, aerr
	}
	req.Body, aerr = objectBody(c.Body(), false)
	return req, aerr
}

func createRequest(c *fiber.Ctx) (schemas.AdminRequest, *apiError) {
	body, aerr := objectBody(c.Body(), true)
	return schemas.AdminRequest{Body: body}, aerr
}

func bodyRequest(required bool) func(c *fiber.Ctx) (schemas.AdminRequest, *apiError) {
	return func(c *fiber.Ctx) (schemas.AdminRequest, *apiError) {
		req, aerr := targetRequest(c)
		if aerr != nil {
			return req, aerr
		}
		req.Body, aerr = objectBody(c.Body(), required)
		return req, aerr
	}
}

// objectBody checks the body is one JSON object; the owner decodes it strictly.
func objectBody(body []byte, required bool) (json.RawMessage, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		if required {
			return nil, newError(schemas.CodeInvalidArgument, "body: required, a JSON object")
		}
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := decodeStrict(body, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, newError(schemas.CodeInvalidArgument, "body: must be a JSON object, not null")
	}
	return json.RawMessage(bytes.TrimSpace(body)), nil
}

func statusBody(c *fiber.Ctx) (schemas.AdminRequest, *apiError) {
	req, aerr := bodyRequest(true)(c)
	if aerr != nil {
		return req, aerr
	}
	var body struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil {
		return req, fieldError("status", "must be a string")
	}
	if body.Status == "" {
		return req, fieldError("status", "required")
	}
	return req, nil
}

func firstErr(have, next *apiError) *apiError {
	if have != nil {
		return have
	}
	return next
}
