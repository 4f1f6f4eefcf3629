#!/usr/bin/env bash
# Installs what HTTVPS needs from Debian when it is missing. Usage: deps.sh [run|test|bench]
set -euo pipefail
mode=${1:-test}

have_postgres() {
  local bindir
  bindir=$(pg_config --bindir 2>/dev/null || true)
  [ -n "$bindir" ] && [ -x "$bindir/postgres" ] && return 0
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

need=()
have_postgres || need+=(postgresql postgresql-client)
if [ "$mode" != run ]; then
  command -v ss-server >/dev/null 2>&1 || need+=(shadowsocks-libev)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  command -v jq >/dev/null 2>&1 || need+=(jq)
  command -v promtool >/dev/null 2>&1 || need+=(prometheus)
  command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  if command -v systemctl >/dev/null 2>&1; then
    $sudo systemctl disable --now shadowsocks-libev >/dev/null 2>&1 || true
    # promtool is what the tests need; the server the package starts would take port 9090.
    $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi
