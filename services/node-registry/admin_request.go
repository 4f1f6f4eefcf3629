package noderegistry

import (
	"errors"
	"fmt"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/node-registry/internal/store"
	"github.com/httvps/httvps/shared/admin"
)

func page(req schemas.AdminRequest) (store.Page, error) {
	limit, offset, err := admin.Page(req)
	return store.Page{Limit: limit, Offset: offset}, err
}

// nodeList reads the paging and the filters both node lists take: region (code), region_id and
// the status named statusKey.
func nodeList(req schemas.AdminRequest, statusKey string, statuses []string) (store.NodeFilter, store.Page, error) {
	var nf store.NodeFilter
	p, err := page(req)
	if err != nil {
		return nf, p, err
	}
	f, err := admin.Filters(req, "region", "region_id", statusKey)
	if err != nil {
		return nf, p, err
	}
	if v := f["region_id"]; v != "" {
		if nf.RegionID, err = admin.PositiveID("filter region_id", v); err != nil {
			return nf, p, err
		}
	}
	if v := f[statusKey]; v != "" {
		if err := admin.OneOf("filter "+statusKey, v, statuses...); err != nil {
			return nf, p, err
		}
	}
	nf.RegionCode, nf.Status = f["region"], f[statusKey]
	return nf, p, nil
}

type statusBody struct {
	Status string `json:"status"`
}

func decodeStatus(req schemas.AdminRequest, allowed ...string) (int64, string, error) {
	if req.ID <= 0 {
		return 0, "", admin.Invalid("id: a positive numeric id is required")
	}
	var b statusBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return 0, "", err
	}
	if err := admin.OneOf("status", b.Status, allowed...); err != nil {
		return 0, "", err
	}
	return req.ID, b.Status, nil
}

// storeError turns store errors into admin replies; anything else is a database failure.
func (s *Service) storeError(op string, err error, what string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return admin.NotFound("%s not found", what)
	case errors.Is(err, store.ErrDuplicate):
		return admin.Conflict("%s already exists", what)
	default:
		s.metrics.dbErrors.WithLabelValues(op).Inc()
		return fmt.Errorf("%s: %w", op, err)
	}
}
