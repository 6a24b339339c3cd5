#!/usr/bin/env bash
# Restore drill: back up the database and, separately, the key set; restore both into a fresh
# PostgreSQL database; `flask audit verify` must pass there and one case must read back through
# the app. Runs against a PostgreSQL server (default 127.0.0.1:5432, user postgres) and drops
# every database it creates. CI runs it (.ci/run).
#
#   deploy/restore-drill.sh [PG_URL_WITHOUT_DATABASE]   e.g. postgresql://postgres@127.0.0.1:5432
set -euo pipefail
cd "$(dirname "$0")/.."
server="${1:-postgresql://postgres@127.0.0.1:5432}"
python="${PYTHON:-.venv/bin/python}"
flask="${FLASK:-.venv/bin/flask}"
source_db="caunoi_drill_source_$$"
restored_db="caunoi_drill_restored_$$"
work=$(mktemp -d)
chmod 700 "$work"
mkdir -m 700 "$work/live" "$work/db-backup" "$work/key-backup" "$work/restored"

cleanup() {
  for db in "$source_db" "$restored_db"; do
    psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

run_app() {  # run_app INSTANCE_DIR DATABASE args...: the app as an operator runs it
  local instance=$1 database=$2
  shift 2
  CAUNOI_ENV=development CAUNOI_INSTANCE_PATH="$instance" SECRET_KEY=drill-secret-key-not-for-production \
    DATABASE_URL="postgresql+psycopg://${server#postgresql://}/$database" \
    CAUNOI_KEY_FILE="$instance/keys.json" AUDIT_CHECKPOINT_FILE="$instance/audit-checkpoints.log" \
    "$@"
}

# A fresh random password each drill: the demo command refuses guessable ones.
drill_password=$("$python" -c 'import secrets; print(secrets.token_hex(16))')

echo "== 1. a live system: migrated, demo data, audited activity, a checkpoint"
psql -q "$server/postgres" -c "CREATE DATABASE $source_db"
run_app "$work/live" "$source_db" "$flask" --app app keys init >/dev/null
run_app "$work/live" "$source_db" "$flask" --app app db upgrade 2>/dev/null
run_app "$work/live" "$source_db" "$flask" --app app demo --password "$drill_password" >/dev/null
run_app "$work/live" "$source_db" "$flask" --app app audit checkpoint >/dev/null 2>&1

echo "== 2. back up the database and, separately, the key set and the audit checkpoints"
pg_dump -Fc -f "$work/db-backup/caunoi.dump" "$server/$source_db"
cp "$work/live/keys.json" "$work/live/audit-checkpoints.log" "$work/key-backup/"
chmod 600 "$work/db-backup/caunoi.dump" "$work/key-backup/"*

echo "== 3. restore both into a fresh database and a fresh instance folder"
psql -q "$server/postgres" -c "CREATE DATABASE $restored_db"
pg_restore --no-owner -d "$server/$restored_db" "$work/db-backup/caunoi.dump"
cp "$work/key-backup/keys.json" "$work/key-backup/audit-checkpoints.log" "$work/restored/"

echo "== 4. the audit trail verifies, against the checkpoints kept outside the database"
run_app "$work/restored" "$restored_db" "$flask" --app app audit verify

echo "== 5. one case reads back through the app"
PYTHONPATH="$PWD" run_app "$work/restored" "$restored_db" "$python" deploy/drill_read_case.py "$drill_password"
echo "restore drill passed"
