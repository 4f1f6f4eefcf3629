#!/usr/bin/env bash
# Makes what docker-compose.yml needs and the repository must not hold: .env with random secrets,
# one NATS nkey per service (the provisioner that creates the streams included), for the gateway
# gw-compose-1 and for the agent of Outline node 1 with the matching accounts block, and
# development TLS certificates. Safe to run again: what exists is kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
secrets=deploy/compose/secrets
identity=(go run ./shared/cmd/httvps-identity)
random() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

if [ ! -f .env ]; then
  for v in POSTGRES_PASSWORD HTTVPS_SECRET_KEY HTTVPS_ADMIN_TOKEN HTTVPS_NODE_TOKEN HTTVPS_OUTLINE_PASSWORD; do
    echo "$v=$(random)"
  done > .env
  chmod 600 .env
  echo "wrote .env"
fi
"${identity[@]}" init -dir "$secrets/identities" -config "$secrets/nats-auth/accounts.conf"
if [ ! -f "$secrets/identities/gateway-gw-compose-1.pub" ]; then
  "${identity[@]}" add-gateway -dir "$secrets/identities" -config "$secrets/nats-auth/accounts.conf" gw-compose-1
fi
if [ ! -f "$secrets/identities/agent-1.pub" ]; then
  "${identity[@]}" add-agent -dir "$secrets/identities" -config "$secrets/nats-auth/accounts.conf" 1
fi
if [ ! -f "$secrets/tls/ca.pem" ]; then
  "${identity[@]}" dev-tls -dir "$secrets/tls"
fi
# The distroless images run as uid 65532: on this development host the keys are made readable.
chmod 0644 "$secrets"/identities/*.nk "$secrets"/tls/*-key.pem
