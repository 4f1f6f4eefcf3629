// Package cluster runs the production shape in tests: a 3-node JetStream cluster with streams at
// replicas 3, two copies of every control-plane service, two gateways on different nodes, real
// PostgreSQL and real Shadowsocks, and breaks it on purpose (see docs/01, "Failure behaviour").
package cluster
