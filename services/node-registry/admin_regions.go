package noderegistry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/node-registry/internal/store"
	"github.com/httvps/httvps/shared/admin"
	"github.com/httvps/httvps/shared/logging"
)

type regionBody struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func (s *Service) createRegion(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	var b regionBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return nil, 0, err
	}
	b.Name = strings.TrimSpace(b.Name)
	switch {
	case !validName(b.Code):
		return nil, 0, admin.Invalid("code: %q must be 1 to 64 letters, digits, '-' or '_'", b.Code)
	case b.Name == "":
		return nil, 0, admin.Invalid("name: required")
	case len(b.Name) > maxTextLen:
		return nil, 0, admin.Invalid("name: at most %d bytes", maxTextLen)
	}
	r, err := s.store.CreateRegion(ctx, b.Code, b.Name)
	if err != nil {
		return nil, 0, s.storeError("create region", err, fmt.Sprintf("region code %q", b.Code))
	}
	s.log.Info().Str(logging.FieldRegion, r.Code).Int64(fieldRegionID, r.ID).Msg("region created")
	return r, 0, nil
}

func (s *Service) listRegions(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	p, err := page(req)
	if err != nil {
		return nil, 0, err
	}
	if _, err := admin.Filters(req); err != nil {
		return nil, 0, err
	}
	rs, total, err := s.store.ListRegions(ctx, p)
	if err != nil {
		return nil, 0, s.storeError("list regions", err, "regions")
	}
	return rs, total, nil
}

func (s *Service) getRegion(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := admin.TargetOf(req, "code")
	if err != nil {
		return nil, 0, err
	}
	var r store.Region
	if t.Key != "" {
		r, err = s.store.RegionByCode(ctx, t.Key)
	} else {
		r, err = s.store.RegionByID(ctx, t.ID)
	}
	if err != nil {
		return nil, 0, s.storeError("get region", err, "region "+t.String())
	}
	return r, 0, nil
}

// resolveRegion finds the region named by a code, an id, or both (which must agree).
func (s *Service) resolveRegion(ctx context.Context, code string, id int64) (store.Region, error) {
	var (
		r   store.Region
		err error
	)
	switch {
	case code != "":
		if r, err = s.store.RegionByCode(ctx, code); err != nil {
			return store.Region{}, s.regionLookupError(err, "region: unknown region %q", code)
		}
		if id != 0 && id != r.ID {
			return store.Region{}, admin.Invalid("region_id: %d is not the id of region %q (%d)", id, code, r.ID)
		}
	case id > 0:
		if r, err = s.store.RegionByID(ctx, id); err != nil {
			return store.Region{}, s.regionLookupError(err, "region_id: unknown region %d", id)
		}
	case id < 0:
		return store.Region{}, admin.Invalid("region_id: must be positive")
	default:
		return store.Region{}, admin.Invalid("region: a region code (or region_id) is required")
	}
	return r, nil
}

func (s *Service) regionLookupError(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return admin.Invalid(format, args...)
	}
	return s.storeError("get region", err, "region")
}
