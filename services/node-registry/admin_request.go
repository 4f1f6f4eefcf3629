package noderegistry

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
	"github.com/httvps/httvps/services/node-registry/internal/store"
	"github.com/httvps/httvps/shared/rpc"
)

const (
	defaultListLimit = 50
	maxListLimit     = 500
)

func invalid(format string, args ...any) error {
	return rpc.Errorf(schemas.CodeInvalidArgument, format, args...)
}

func page(req schemas.AdminRequest) (store.Page, error) {
	switch {
	case req.Limit < 0:
		return store.Page{}, invalid("limit: must not be negative")
	case req.Limit > maxListLimit:
		return store.Page{}, invalid("limit: at most %d", maxListLimit)
	case req.Offset < 0:
		return store.Page{}, invalid("offset: must not be negative")
	}
	limit := req.Limit
	if limit == 0 {
		limit = defaultListLimit
	}
	return store.Page{Limit: limit, Offset: req.Offset}, nil
}

func checkFilters(filter map[string]string, allowed ...string) error {
	var unknown []string
	for k := range filter {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	if len(allowed) == 0 {
		return invalid("filter: unknown filter %s (this list takes no filters)", strings.Join(unknown, ", "))
	}
	return invalid("filter: unknown filter %s (known: %s)", strings.Join(unknown, ", "), strings.Join(allowed, ", "))
}

func filterID(filter map[string]string, key string) (int64, error) {
	v, ok := filter[key]
	if !ok || v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("filter %s: %q is not a positive id", key, v)
	}
	return id, nil
}

func filterOneOf(filter map[string]string, key string, allowed ...string) (string, error) {
	v := filter[key]
	if v == "" || slices.Contains(allowed, v) {
		return v, nil
	}
	return "", invalid("filter %s: %q is not one of %s", key, v, strings.Join(allowed, ", "))
}

// decodeBody decodes the request body strictly: unknown fields and trailing data are refused.
func decodeBody(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return invalid("body: required")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("%s", describeJSONError(err))
	}
	if dec.More() {
		return invalid("body: trailing data after the JSON object")
	}
	return nil
}

type statusBody struct {
	Status string `json:"status"`
}

func decodeStatus(req schemas.AdminRequest, allowed ...string) (int64, string, error) {
	if req.ID <= 0 {
		return 0, "", invalid("id: a positive numeric id is required")
	}
	var b statusBody
	if err := decodeBody(req.Body, &b); err != nil {
		return 0, "", err
	}
	if !slices.Contains(allowed, b.Status) {
		return 0, "", invalid("status: %q is not one of %s", b.Status, strings.Join(allowed, ", "))
	}
	return req.ID, b.Status, nil
}

// storeError turns store errors into admin replies; anything else is a database failure.
func (s *Service) storeError(op string, err error, what string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return rpc.Errorf(schemas.CodeNotFound, "%s not found", what)
	case errors.Is(err, store.ErrDuplicate):
		return rpc.Errorf(schemas.CodeConflict, "%s already exists", what)
	default:
		s.metrics.dbErrors.WithLabelValues(op).Inc()
		return fmt.Errorf("%s: %w", op, err)
	}
}

// describeJSONError names the field at fault without Go type names.
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

func describeLookup(what string, req schemas.AdminRequest) string {
	if req.ID > 0 {
		return fmt.Sprintf("%s %d", what, req.ID)
	}
	return fmt.Sprintf("%s %q", what, req.Key)
}
