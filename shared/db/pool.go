package db

import (
	"errors"
	"time"
)

// PoolConfig sizes the connection pool; zero values mean no limit.
type PoolConfig struct {
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
}

const (
	defaultMaxOpenConns    = 20
	defaultMaxIdleConns    = 10
	defaultConnMaxLifetime = 30 * time.Minute
	defaultConnMaxIdleTime = 5 * time.Minute
)

// DefaultPool returns the pool settings services use unless configured.
func DefaultPool() PoolConfig {
	return PoolConfig{
		MaxOpenConns:    defaultMaxOpenConns,
		MaxIdleConns:    defaultMaxIdleConns,
		ConnMaxLifetime: defaultConnMaxLifetime,
		ConnMaxIdleTime: defaultConnMaxIdleTime,
	}
}

// Validate reports negative settings.
func (p PoolConfig) Validate() error {
	var errs []error
	if p.MaxOpenConns < 0 {
		errs = append(errs, errors.New("MaxOpenConns must not be negative"))
	}
	if p.MaxIdleConns < 0 {
		errs = append(errs, errors.New("MaxIdleConns must not be negative"))
	}
	if p.ConnMaxLifetime < 0 {
		errs = append(errs, errors.New("ConnMaxLifetime must not be negative"))
	}
	if p.ConnMaxIdleTime < 0 {
		errs = append(errs, errors.New("ConnMaxIdleTime must not be negative"))
	}
	return errors.Join(errs...)
}
