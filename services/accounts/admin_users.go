package accounts

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
)

var (
	userStatuses    = []string{statusActive, statusBanned, statusPending}
	identifierKinds = []string{"email", "telegram", "phone"}
	identifierRules = map[string]*regexp.Regexp{
		"email":    regexp.MustCompile(`^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$`),
		"telegram": regexp.MustCompile(`^(?:[0-9]{1,20}|@?[A-Za-z][A-Za-z0-9_]{4,31})$`),
		"phone":    regexp.MustCompile(`^\+?[0-9]{5,20}$`),
	}
)

const maxIdentifier = 255

type createUserBody struct {
	Identifier     string `json:"identifier"`
	IdentifierKind string `json:"identifier_kind"`
	Status         string `json:"status"`
}

type statusBody struct {
	Status string `json:"status"`
}

func (s *Service) listUsers(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	limit, offset, err := admin.Page(req)
	if err != nil {
		return nil, 0, err
	}
	f, err := admin.Filters(req, "status", "identifier")
	if err != nil {
		return nil, 0, err
	}
	users := []User{}
	q := s.db.NewSelect().Model(&users)
	if v, ok := f["status"]; ok {
		if err := admin.OneOf("filter status", v, userStatuses...); err != nil {
			return nil, 0, err
		}
		q = q.Where("status = ?", v)
	}
	if v, ok := f["identifier"]; ok {
		q = q.Where("identifier = ?", v)
	}
	total, err := s.list(ctx, q, limit, offset)
	return users, total, err
}

func (s *Service) getUser(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := targetOf(req, "identifier")
	if err != nil {
		return nil, 0, err
	}
	var u User
	cond, arg := t.clause()
	if err := s.getOne(ctx, s.db.NewSelect().Model(&u).Where(cond, arg), "user", t); err != nil {
		return nil, 0, err
	}
	return u, 0, nil
}

func (s *Service) createUser(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	var b createUserBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return nil, 0, err
	}
	b.Identifier = strings.TrimSpace(b.Identifier)
	if b.Status == "" {
		b.Status = statusActive
	}
	switch {
	case b.Identifier == "":
		return nil, 0, admin.Invalid("identifier: required")
	case len(b.Identifier) > maxIdentifier:
		return nil, 0, admin.Invalid("identifier: at most %d characters", maxIdentifier)
	case b.IdentifierKind == "":
		return nil, 0, admin.Invalid("identifier_kind: required, one of %s", strings.Join(identifierKinds, ", "))
	}
	if err := admin.OneOf("identifier_kind", b.IdentifierKind, identifierKinds...); err != nil {
		return nil, 0, err
	}
	if !identifierRules[b.IdentifierKind].MatchString(b.Identifier) {
		return nil, 0, admin.Invalid("identifier: %q is not a valid %s", b.Identifier, b.IdentifierKind)
	}
	if err := admin.OneOf("status", b.Status, userStatuses...); err != nil {
		return nil, 0, err
	}
	u := User{Identifier: b.Identifier, IdentifierKind: b.IdentifierKind, Status: b.Status}
	if _, err := s.db.NewInsert().Model(&u).Returning("*").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return nil, 0, admin.Conflict("user identifier %q already exists", b.Identifier)
		}
		return nil, 0, s.dbErr(err, "create user")
	}
	return u, 0, nil
}

func (s *Service) setUserStatus(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	t, err := targetOf(req, "identifier")
	if err != nil {
		return nil, 0, err
	}
	var b statusBody
	if err := admin.DecodeBody(req.Body, &b); err != nil {
		return nil, 0, err
	}
	if err := admin.OneOf("status", b.Status, userStatuses...); err != nil {
		return nil, 0, err
	}
	var u User
	cond, arg := t.clause()
	err = s.db.NewUpdate().Model(&u).Set("status = ?", b.Status).Set("updated_at = now()").
		Where(cond, arg).Returning("*").Scan(ctx)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, 0, admin.NotFound("user %s not found", t)
		}
		return nil, 0, s.dbErr(err, "set user status")
	}
	switch u.Status {
	case statusBanned:
		s.events.kickUser(u.ID, schemas.CodeUserBanned, "user banned by admin")
	case statusPending:
		s.events.kickUser(u.ID, schemas.CodeNoSubscription, "user set to pending by admin")
	}
	return u, 0, nil
}
