package store

import (
	"database/sql"
	"errors"

	"github.com/uptrace/bun/driver/pgdriver"
)

var (
	ErrNotFound      = errors.New("not found")
	ErrDuplicate     = errors.New("unique key taken")
	ErrRegionUnknown = errors.New("region unknown")
	ErrNoCapacity    = errors.New("no healthy outline node with free capacity")
)

const pgUniqueViolation = "23505"

func isUniqueViolation(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == pgUniqueViolation
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
