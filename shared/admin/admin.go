// Package admin checks the parts of an admin request every service reads the same way: paging,
// filters, the target of get and update verbs and strict bodies.
package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
)

const (
	DefaultLimit = 50
	MaxLimit     = 500

	maxEcho = 40
)

func Invalid(format string, args ...any) *schemas.RPCError {
	return rpc.Errorf(schemas.CodeInvalidArgument, format, args...)
}

func NotFound(format string, args ...any) *schemas.RPCError {
	return rpc.Errorf(schemas.CodeNotFound, format, args...)
}

func Conflict(format string, args ...any) *schemas.RPCError {
	return rpc.Errorf(schemas.CodeConflict, format, args...)
}

func Page(req schemas.AdminRequest) (limit, offset int, err error) {
	switch {
	case req.Limit < 0 || req.Limit > MaxLimit:
		return 0, 0, Invalid("limit: must be from 1 to %d (0 means %d)", MaxLimit, DefaultLimit)
	case req.Offset < 0:
		return 0, 0, Invalid("offset: must not be negative")
	case req.Limit == 0:
		return DefaultLimit, req.Offset, nil
	}
	return req.Limit, req.Offset, nil
}

func Filters(req schemas.AdminRequest, allowed ...string) (map[string]string, error) {
	var unknown []string
	for k := range req.Filter {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return req.Filter, nil
	}
	sort.Strings(unknown)
	if len(allowed) == 0 {
		return nil, Invalid("filter %s: unknown, this list takes no filters", strings.Join(unknown, ", "))
	}
	return nil, Invalid("filter %s: unknown, allowed filters are %s", strings.Join(unknown, ", "), strings.Join(allowed, ", "))
}

func PositiveID(field, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, Invalid("%s: must be a positive integer, got %q", field, truncate(v))
	}
	return n, nil
}

func OneOf(field, v string, allowed ...string) error {
	if !slices.Contains(allowed, v) {
		return Invalid("%s: must be one of %s, got %q", field, strings.Join(allowed, ", "), truncate(v))
	}
	return nil
}

func truncate(s string) string {
	if len(s) > maxEcho {
		return s[:maxEcho] + "..."
	}
	return s
}

// Target is the row a get or update names: a numeric ID or, where the resource has one, a Key.
type Target struct {
	ID  int64
	Key string
}

func (t Target) String() string {
	if t.Key != "" {
		return strconv.Quote(t.Key)
	}
	return strconv.FormatInt(t.ID, 10)
}

// TargetOf reads exactly one of id and key; keyName names the key, "" where there is none.
func TargetOf(req schemas.AdminRequest, keyName string) (Target, error) {
	switch {
	case req.ID < 0:
		return Target{}, Invalid("id: must be a positive integer")
	case req.ID > 0 && req.Key != "":
		return Target{}, Invalid("id and key: give one, not both")
	case req.ID > 0:
		return Target{ID: req.ID}, nil
	case req.Key != "" && keyName == "":
		return Target{}, Invalid("key: not supported here, give the numeric id")
	case req.Key != "":
		return Target{Key: req.Key}, nil
	case keyName == "":
		return Target{}, Invalid("id: required")
	}
	return Target{}, Invalid("id or key (%s): required", keyName)
}

// DecodeBody decodes the request body strictly: unknown fields and trailing data are refused.
func DecodeBody(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return Invalid("body: required")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Invalid("%s", describeJSONError(err))
	}
	if dec.More() {
		return Invalid("body: trailing data after the JSON object")
	}
	return nil
}

func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return "body: must be a JSON object, not " + typeErr.Value
		}
		return fmt.Sprintf("%s: must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type.Kind()), typeErr.Value)
	}
	return "body: " + strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
