package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/httvps/httvps/schemas"
)

type validator interface {
	validate() *apiError
}

// decodeBody decodes the JSON body strictly (unknown fields and trailing data are refused)
// and validates it, naming the offending field.
func decodeBody(c *fiber.Ctx, v validator) *apiError {
	if err := decodeStrict(c.Body(), v); err != nil {
		return err
	}
	return v.validate()
}

func decodeStrict(body []byte, v any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		return newError(schemas.CodeInvalidArgument, "body: required, a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return newError(schemas.CodeInvalidArgument, "body: trailing data after the JSON object")
	}
	return nil
}

func decodeError(err error) *apiError {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return newError(schemas.CodeInvalidArgument, "body: malformed JSON at offset %d: %v", syntax.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return newError(schemas.CodeInvalidArgument, "body: malformed JSON: unexpected end")
	case errors.As(err, &typ) && typ.Field != "":
		return fieldError(typ.Field, fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value))
	case errors.As(err, &typ):
		return newError(schemas.CodeInvalidArgument, "body: must be a JSON object, not %s", typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fieldError(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field")
	default:
		return newError(schemas.CodeInvalidArgument, "body: %v", err)
	}
}

func jsonKind(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"):
		return "an integer"
	case strings.HasPrefix(goKind, "float"):
		return "a number"
	case goKind == "string":
		return "a string"
	case goKind == "bool":
		return "true or false"
	case goKind == "slice":
		return "an array"
	default:
		return "an object"
	}
}

// fields collects the first problem of a request body, in field order.
type fields struct{ err *apiError }

func (f *fields) fail(field, problem string) {
	if f.err == nil {
		f.err = fieldError(field, problem)
	}
}

func (f *fields) token(field, v string, required bool) {
	if v == "" {
		if required {
			f.fail(field, "required")
		}
		return
	}
	if len(v) > 128 {
		f.fail(field, "longer than 128 characters")
		return
	}
	if schemas.ValidToken(v) != nil {
		f.fail(field, "must not contain '.', '*', '>' or white space")
	}
}

var (
	deviceIDPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	sessionIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

func (f *fields) deviceID(field, v string) {
	switch {
	case v == "":
		f.fail(field, "required")
	case !deviceIDPattern.MatchString(v):
		f.fail(field, "must be 1 to 64 letters, digits, '-' or '_'")
	}
}

func (f *fields) uuid(field, v string) {
	switch {
	case v == "":
		f.fail(field, "required")
	case !sessionIDPattern.MatchString(v):
		f.fail(field, "must be a UUID such as 0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10")
	}
}

func (f *fields) ip(field, v string) {
	if v != "" && net.ParseIP(v) == nil {
		f.fail(field, "must be an IPv4 or IPv6 address")
	}
}

func (f *fields) text(field, v string, required bool, max int) {
	if v == "" {
		if required {
			f.fail(field, "required")
		}
		return
	}
	if len(v) > max {
		f.fail(field, fmt.Sprintf("longer than %d characters", max))
	}
}

func (f *fields) nonNegative(field string, v *int64) int64 {
	switch {
	case v == nil:
		f.fail(field, "required")
		return 0
	case *v < 0:
		f.fail(field, "must not be negative")
		return 0
	}
	return *v
}

func (f *fields) positive(field string, v int64) {
	if v <= 0 {
		if v == 0 {
			f.fail(field, "required, a positive integer")
			return
		}
		f.fail(field, "must be a positive integer")
	}
}

func (f *fields) oneOf(field, v string, allowed ...string) {
	if v == "" {
		f.fail(field, "required, one of "+strings.Join(allowed, ", "))
		return
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	f.fail(field, "must be one of "+strings.Join(allowed, ", "))
}

func (f *fields) time(field string, v *string, required bool) *time.Time {
	if v == nil || *v == "" {
		if required {
			f.fail(field, "required, an RFC 3339 date-time")
		}
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		f.fail(field, "must be an RFC 3339 date-time such as 2025-11-21T18:46:11Z")
		return nil
	}
	t = t.UTC()
	return &t
}
