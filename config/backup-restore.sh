#!/bin/sh
# Restores a backup controller archive (a zip of a pg_basebackup plain-format copy, with its backup_manifest)
# into a fresh data folder and starts PostgreSQL on it (04-postgres.md "backup_controller").
#
#   config/backup-restore.sh ARCHIVE.zip DATA_DIR [PORT [SOCKET_DIR]]
#
# Run it as the user PostgreSQL runs as (postgres). DATA_DIR must not exist or be empty. PG_BIN picks the
# server's programs (default /usr/lib/postgresql/15/bin). The copy is checked with pg_verifybackup first, then
# started with pg_ctl on PORT (default 5432), listening on 127.0.0.1 only and with its socket in SOCKET_DIR
# (default DATA_DIR) so that it cannot be mistaken for the production server; its log is DATA_DIR/restore.log.
# The restored server is a primary of its own: a standby.signal or recovery.signal in the copy is removed.
# Stop it with: pg_ctl -D DATA_DIR stop
set -eu
archive=${1:?usage: backup-restore.sh ARCHIVE.zip DATA_DIR [PORT [SOCKET_DIR]]}
data=${2:?usage: backup-restore.sh ARCHIVE.zip DATA_DIR [PORT [SOCKET_DIR]]}
port=${3:-5432}
sockets=${4:-$data}
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}

if [ -d "$data" ] && [ -n "$(ls -A "$data")" ]; then
  echo "backup-restore: $data is not empty; give a fresh folder" >&2
  exit 2
fi
mkdir -p "$data"
chmod 700 "$data"
unzip -q "$archive" -d "$data"
"$bin/pg_verifybackup" --quiet "$data"
rm -f "$data/standby.signal" "$data/recovery.signal"
"$bin/pg_ctl" -D "$data" -l "$data/restore.log" -w -t 60 \
  -o "-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$sockets" start
echo "backup-restore: PostgreSQL runs on 127.0.0.1:$port with data in $data"
