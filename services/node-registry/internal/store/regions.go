package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

type Region struct {
	bun.BaseModel `bun:"table:regions"`

	ID        int64     `bun:"id,pk,autoincrement" json:"id"`
	Code      string    `bun:"code" json:"code"`
	Name      string    `bun:"name" json:"name"`
	CreatedAt time.Time `bun:"created_at" json:"created_at"`
	UpdatedAt time.Time `bun:"updated_at" json:"updated_at"`
}

const regionColumns = "id, code, name, created_at, updated_at"

func (s *Store) CreateRegion(ctx context.Context, code, name string) (Region, error) {
	var r Region
	err := s.db.NewRaw("INSERT INTO regions (code, name) VALUES (?, ?) RETURNING "+regionColumns, code, name).Scan(ctx, &r)
	if isUniqueViolation(err) {
		return Region{}, ErrDuplicate
	}
	if err != nil {
		return Region{}, fmt.Errorf("insert region: %w", err)
	}
	return r, nil
}

func (s *Store) ListRegions(ctx context.Context, p Page) ([]Region, int64, error) {
	total, err := s.count(ctx, "regions", where{})
	if err != nil {
		return nil, 0, fmt.Errorf("regions: %w", err)
	}
	out := []Region{}
	if err := s.db.NewRaw("SELECT "+regionColumns+" FROM regions ORDER BY id LIMIT ? OFFSET ?", p.Limit, p.Offset).Scan(ctx, &out); err != nil {
		return nil, 0, fmt.Errorf("list regions: %w", err)
	}
	return out, total, nil
}

func (s *Store) RegionByID(ctx context.Context, id int64) (Region, error) {
	return s.regionWhere(ctx, "id = ?", id)
}

func (s *Store) RegionByCode(ctx context.Context, code string) (Region, error) {
	return s.regionWhere(ctx, "code = ?", code)
}

func (s *Store) regionWhere(ctx context.Context, cond string, arg any) (Region, error) {
	var r Region
	if err := s.db.NewRaw("SELECT "+regionColumns+" FROM regions WHERE "+cond, arg).Scan(ctx, &r); err != nil {
		return Region{}, fmt.Errorf("get region: %w", notFound(err))
	}
	return r, nil
}
