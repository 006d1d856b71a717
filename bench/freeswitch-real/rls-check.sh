#!/usr/bin/env bash
# SQL-level checks for FINDINGS.md (a)/(b): who is connected under which application_name, and what each
# FreeSWITCH identity sees in `recovery` under RLS. Usage: MODE=rls bench/freeswitch-real/rls-check.sh
set -euo pipefail
DB=freeswitch; [ "${MODE:-plain}" = rls ] && DB=freeswitch_rls
su_psql() { psql -h 127.0.0.1 -p 55432 -U postgres -d "$DB" -P pager=off "$@"; }
echo "# pg_stat_activity (datname=$DB)"
su_psql -c "select usename, application_name, client_addr, state from pg_stat_activity where datname = '$DB' order by 2, 1"
echo "# recovery rows as the superuser (RLS bypassed)"
su_psql -c "select hostname, runtime_uuid, count(*) from recovery group by 1, 2 order by 1"
if [ "$DB" = freeswitch_rls ]; then
  for app in fs-a fs-b; do
    echo "# as fsrls with application_name=$app"
    PGPASSWORD=fsrls PGAPPNAME=$app psql -h 127.0.0.1 -p 55432 -U fsrls -d "$DB" -P pager=off \
      -c "select hostname, count(*) from recovery group by 1 order by 1"
  done
fi
