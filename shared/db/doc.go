// Package db opens the PostgreSQL connection pool (bun over pgdriver) that
// services share.
package db
