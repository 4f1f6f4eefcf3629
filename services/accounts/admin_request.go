package accounts

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

const (
	defaultListLimit = 50
	maxListLimit     = 500
)

type adminEndpoint struct {
	resource, verb string
	fn             rpc.AdminFunc
}

func (s *Service) adminEndpoints() []adminEndpoint {
	return []adminEndpoint{
		{schemas.ResourceUsers, schemas.VerbList, s.listUsers},
		{schemas.ResourceUsers, schemas.VerbGet, s.getUser},
		{schemas.ResourceUsers, schemas.VerbCreate, s.createUser},
		{schemas.ResourceUsers, schemas.VerbSetStatus, s.setUserStatus},
		{schemas.ResourcePlans, schemas.VerbList, s.listPlans},
		{schemas.ResourcePlans, schemas.VerbGet, s.getPlan},
		{schemas.ResourcePlans, schemas.VerbCreate, s.createPlan},
		{schemas.ResourceSubscriptions, schemas.VerbList, s.listSubscriptions},
		{schemas.ResourceSubscriptions, schemas.VerbGet, s.getSubscription},
		{schemas.ResourceSubscriptions, schemas.VerbCreate, s.createSubscription},
		{schemas.ResourceSubscriptions, schemas.VerbExtend, s.extendSubscription},
		{schemas.ResourceSubscriptions, schemas.VerbCancel, s.cancelSubscription},
		{schemas.ResourceDevices, schemas.VerbList, s.listDevices},
		{schemas.ResourceDevices, schemas.VerbGet, s.getDevice},
		{schemas.ResourceDevices, schemas.VerbCreate, s.createDevice},
		{schemas.ResourceDevices, schemas.VerbRevoke, s.revokeDevice},
		{schemas.ResourceDevices, schemas.VerbRotate, s.rotateDevice},
	}
}

func invalidf(format string, args ...any) error {
	return rpc.Errorf(schemas.CodeInvalidArgument, format, args...)
}

func notFoundf(format string, args ...any) error {
	return rpc.Errorf(schemas.CodeNotFound, format, args...)
}

func conflictf(format string, args ...any) error {
	return rpc.Errorf(schemas.CodeConflict, format, args...)
}

// target is the row an admin request names: a numeric id or, where the resource
// has one, its natural key.
type target struct {
	id     int64
	key    string
	keyCol string
}

func (t target) String() string {
	if t.key != "" {
		return strconv.Quote(t.key)
	}
	return strconv.FormatInt(t.id, 10)
}

// clause is the WHERE condition naming the target; keyCol comes from this package, never from input.
func (t target) clause() (string, any) {
	if t.key != "" {
		return t.keyCol + " = ?", t.key
	}
	return "id = ?", t.id
}

func targetOf(req schemas.AdminRequest, keyCol string) (target, error) {
	switch {
	case req.ID < 0:
		return target{}, invalidf("id: must be a positive number")
	case req.ID > 0 && req.Key != "":
		return target{}, invalidf("id and key: give one, not both")
	case req.ID > 0:
		return target{id: req.ID}, nil
	case req.Key != "" && keyCol == "":
		return target{}, invalidf("key: not supported here, give the numeric id")
	case req.Key != "":
		return target{key: req.Key, keyCol: keyCol}, nil
	}
	if keyCol == "" {
		return target{}, invalidf("id: required")
	}
	return target{}, invalidf("id or key: required")
}

func pageOf(req schemas.AdminRequest) (limit, offset int, err error) {
	switch {
	case req.Limit < 0 || req.Limit > maxListLimit:
		return 0, 0, invalidf("limit: must be 1 to %d (0 means %d)", maxListLimit, defaultListLimit)
	case req.Offset < 0:
		return 0, 0, invalidf("offset: must not be negative")
	case req.Limit == 0:
		return defaultListLimit, req.Offset, nil
	}
	return req.Limit, req.Offset, nil
}

func filterOf(req schemas.AdminRequest, allowed ...string) (map[string]string, error) {
	keys := make([]string, 0, len(req.Filter))
	for k := range req.Filter {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, invalidf("filter: %s is not a filter here; there are none", k)
			}
			return nil, invalidf("filter: %s is not a filter here; use %s", k, strings.Join(allowed, ", "))
		}
	}
	return req.Filter, nil
}

func oneOf(field, value string, allowed ...string) error {
	if !slices.Contains(allowed, value) {
		return invalidf("%s: must be one of %s, got %q", field, strings.Join(allowed, ", "), value)
	}
	return nil
}

func positiveID(field, value string) (int64, error) {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalidf("%s: must be a positive number, got %q", field, value)
	}
	return id, nil
}

// decodeBody decodes the request body strictly: unknown fields and trailing data are refused.
func decodeBody(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return invalidf("body: required")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return invalidf("body: must be a JSON object, got %s", typeErr.Value)
			}
			return invalidf("body: %s: want %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value)
		}
		return invalidf("body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return invalidf("body: trailing data after the JSON object")
	}
	return nil
}

func (s *Service) list(ctx context.Context, q *bun.SelectQuery, limit, offset int) (int64, error) {
	n, err := q.Order("id ASC").Limit(limit).Offset(offset).ScanAndCount(ctx)
	if err != nil {
		return 0, s.dbErr(err, "list")
	}
	return int64(n), nil
}

func (s *Service) getOne(ctx context.Context, q *bun.SelectQuery, what string, t target) error {
	if err := q.Limit(1).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return notFoundf("%s %s not found", what, t)
		}
		return s.dbErr(err, "get "+what)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == "23505"
}

func (s *Service) dbErr(err error, what string) error {
	if _, ok := rpc.AsRPCError(err); ok {
		return err
	}
	s.m.dbErrors.WithLabelValues(opAdmin).Inc()
	return fmt.Errorf("%s: %w", what, err)
}
