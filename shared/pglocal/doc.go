// Package pglocal runs PostgreSQL from the installed binaries: a persistent local cluster for
// `make run`, and throwaway per-test databases (through shared/testkit).
package pglocal
