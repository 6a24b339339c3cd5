#!/usr/bin/env bash
# Create deploy/secrets/ once: random SECRET_KEY and database password, the database URL, and a
# new key set. Every file 0600. Back up keys.json apart from the database (README "Backups").
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
[ -s secrets/secret_key ] || python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > secrets/secret_key
[ -s secrets/db_password ] || python3 -c 'import secrets; print(secrets.token_urlsafe(24))' > secrets/db_password
[ -s secrets/database_url ] || echo "postgresql+psycopg://caunoi:$(cat secrets/db_password)@db:5432/caunoi" > secrets/database_url
if [ ! -s secrets/keys.json ]; then
  (cd .. && python3 -c 'from app.crypto.keyring import Keyring, write_key_file; write_key_file("deploy/secrets/keys.json", Keyring.generate())')
fi
chmod 600 secrets/*
ls -l secrets
