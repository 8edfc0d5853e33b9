#!/usr/bin/env bash
# Starts the machine's PostgreSQL (Debian's postgresql package) and creates
# the role the tests use. Idempotent. Tests read RUNNER_TEST_POSTGRES and
# fall back to the URL this prints.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_dump >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >/dev/null
fi
pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 0.2
done
su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'runner') THEN
    CREATE ROLE runner LOGIN SUPERUSER PASSWORD 'runner-test-pw';
  END IF;
END $$;
SQL
echo "postgres://runner:runner-test-pw@127.0.0.1:5432/postgres"
