#!/usr/bin/env bash
# Sourced by .ci/run (as root, CI=true): make sure a local PostgreSQL server runs, with a test
# role and database, and export PALSY_TEST_POSTGRES_URL for the db tests. Idempotent; it leaves
# the server running. PostgreSQL refuses to run as root: pg_ctlcluster starts it as `postgres`.
# Works on a fresh Debian 12 (installs Debian's `postgresql`) and where it is already installed.

_palsy_as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

_palsy_pg_setup() {
  local name=palsy_test version port status i
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
  if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {found = 1} END {exit !found}'; then
    pg_createcluster "$version" main >/dev/null
  fi
  port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
  status=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}')
  if [ "$status" != online ]; then
    pg_ctlcluster "$version" main start
  fi
  for i in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.5
  done
  pg_isready -q -h 127.0.0.1 -p "$port" || { echo "postgres.sh: server not ready on port $port" >&2; return 1; }
  _palsy_as_postgres psql -p "$port" -q -v ON_ERROR_STOP=1 -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$name') THEN
        CREATE ROLE $name LOGIN PASSWORD '$name';
      END IF;
    END \$\$;"
  if [ "$(_palsy_as_postgres psql -p "$port" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" != 1 ]; then
    _palsy_as_postgres createdb -p "$port" -O "$name" "$name"
  fi
  export PALSY_TEST_POSTGRES_URL="postgresql+psycopg://$name:$name@127.0.0.1:$port/$name"
}

_palsy_pg_setup
unset -f _palsy_pg_setup _palsy_as_postgres
