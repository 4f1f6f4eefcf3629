// Package httvps runs the whole HTTVPS system in one process for development: embedded NATS,
// a local PostgreSQL, migrations, stream provisioning and every service.
package httvps
