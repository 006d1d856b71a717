#!/usr/bin/env bash
# Start (or restart) the two-instance real FreeSWITCH 1.10.12 setup used to record
# test/fixtures/freeswitch-real/. NOT run by CI: needs /opt/fs (built with
# /work/shared/tools/freeswitch/build.sh), PostgreSQL 15 binaries and sipp (Debian sip-tester).
#
#   fs-a: SIP/RTP 127.0.0.21:5060, RTP 20000-20999, ESL 127.0.0.21:8021 (ClueCon), switchname fs-a
#   fs-b: SIP/RTP 127.0.0.22:5060, RTP 30000-30999, ESL 127.0.0.22:8021 (ClueCon), switchname fs-b
#   PostgreSQL 15 cluster /opt/fs-pg/data on 127.0.0.1:55432 (superuser postgres, trust on 127.0.0.1)
#   MODE=plain (default): DB freeswitch, role fs/fs owning it.
#   MODE=rls: DB freeswitch_rls, role fsrls/fsrls (not owner, not superuser); `recovery` pre-created by
#             postgres with RLS policies keyed on application_name (see rls.sql).
#   sipp peers are started by the recording scripts (uas on 127.0.0.31:5080), not here.
#
# Usage: bench/freeswitch-real/start-two.sh [start|stop|status]   (env: MODE, FS_PREFIX, BASE)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
FS_PREFIX=${FS_PREFIX:-/opt/fs}
BASE=${BASE:-/opt/fs-inst}
MODE=${MODE:-plain}
PGBIN=/usr/lib/postgresql/15/bin
PGDATA=${PGDATA:-/opt/fs-pg/data}
PGPORT=${PGPORT:-55432}
UAS=${UAS:-127.0.0.31:5080}

if [ "$MODE" = rls ]; then DB=freeswitch_rls; DBUSER=fsrls; DBPW=fsrls; else DB=freeswitch; DBUSER=fs; DBPW=fs; fi

psql_su() { psql -h 127.0.0.1 -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

start_pg() {
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$(dirname "$PGDATA")"; chown postgres:postgres "$(dirname "$PGDATA")"
    su postgres -c "$PGBIN/initdb -D $PGDATA -A trust -U postgres" >/dev/null
    printf 'local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$PGDATA/pg_hba.conf"
  fi
  if ! su postgres -c "$PGBIN/pg_ctl -D $PGDATA status" >/dev/null 2>&1; then
    su postgres -c "$PGBIN/pg_ctl -D $PGDATA -o '-p $PGPORT -k $(dirname "$PGDATA") -c listen_addresses=127.0.0.1 -c max_connections=300' -l $(dirname "$PGDATA")/pg.log -w start" >/dev/null
  fi
  if [ "$MODE" = rls ]; then
    psql_su -f "$HERE/rls.sql" >/dev/null
  else
    psql_su -c "do \$\$ begin if not exists (select from pg_roles where rolname='fs') then create role fs login password 'fs'; end if; end \$\$;"
    psql_su -tc "select 1 from pg_database where datname='freeswitch'" | grep -q 1 || psql_su -c "create database freeswitch owner fs"
  fi
}

write_conf() {  # name ip rtp_start rtp_end
  local n=$1 ip=$2 rs=$3 re=$4 d=$BASE/$1
  mkdir -p "$d"/{conf,log,db,run,recordings,sounds,storage,cache}
  cat >"$d/conf/freeswitch.xml" <<XML
<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="configuration" description="two-instance recording setup ($n)">
    <configuration name="switch.conf" description="Core">
      <settings>
        <param name="switchname" value="$n"/>
        <param name="core-db-dsn" value="pgsql://hostaddr=127.0.0.1 port=$PGPORT dbname=$DB user=$DBUSER password=$DBPW application_name=$n"/>
        <param name="max-sessions" value="3000"/>
        <param name="sessions-per-second" value="500"/>
        <param name="rtp-start-port" value="$rs"/>
        <param name="rtp-end-port" value="$re"/>
        <param name="loglevel" value="debug"/>
        <param name="colorize-console" value="false"/>
        <param name="dump-cores" value="no"/>
      </settings>
    </configuration>
    <configuration name="pre_load_modules.conf" description="">
      <modules><load module="mod_pgsql"/></modules>
    </configuration>
    <configuration name="modules.conf" description="">
      <modules>
        <load module="mod_console"/>
        <load module="mod_logfile"/>
        <load module="mod_event_socket"/>
        <load module="mod_sofia"/>
        <load module="mod_loopback"/>
        <load module="mod_commands"/>
        <load module="mod_conference"/>
        <load module="mod_db"/>
        <load module="mod_dptools"/>
        <load module="mod_expr"/>
        <load module="mod_hash"/>
        <load module="mod_dialplan_xml"/>
        <load module="mod_native_file"/>
        <load module="mod_sndfile"/>
        <load module="mod_tone_stream"/>
      </modules>
    </configuration>
    <configuration name="post_load_modules.conf" description=""><modules/></configuration>
    <configuration name="console.conf" description="">
      <mappings><map name="all" value="console,debug,info,notice,warning,err,crit,alert"/></mappings>
      <settings><param name="colorize" value="false"/><param name="loglevel" value="info"/></settings>
    </configuration>
    <configuration name="logfile.conf" description="">
      <settings><param name="rotate-on-hup" value="true"/></settings>
      <profiles><profile name="default"><settings>
        <param name="rollover" value="104857600"/>
        <param name="uuid" value="true"/>
      </settings><mappings><map name="all" value="debug,info,notice,warning,err,crit,alert"/></mappings></profile></profiles>
    </configuration>
    <configuration name="event_socket.conf" description="ESL">
      <settings>
        <param name="nat-map" value="false"/>
        <param name="listen-ip" value="$ip"/>
        <param name="listen-port" value="8021"/>
        <param name="password" value="ClueCon"/>
      </settings>
    </configuration>
    <configuration name="sofia.conf" description="sofia">
      <global_settings><param name="log-level" value="0"/></global_settings>
      <profiles>
        <profile name="internal">
          <settings>
            <param name="sip-ip" value="$ip"/>
            <param name="rtp-ip" value="$ip"/>
            <param name="sip-port" value="5060"/>
            <param name="context" value="default"/>
            <param name="dialplan" value="XML"/>
            <param name="auth-calls" value="false"/>
            <param name="accept-blind-auth" value="true"/>
            <param name="track-calls" value="true"/>
            <param name="codec-prefs" value="PCMU,PCMA"/>
            <param name="rtp-timer-name" value="soft"/>
            <param name="manage-presence" value="false"/>
            <param name="disable-register" value="true"/>
            <param name="aggressive-nat-detection" value="false"/>
            <param name="apply-candidate-acl" value="none"/>
          </settings>
        </profile>
      </profiles>
    </configuration>
    <configuration name="conference.conf" description="conference">
      <profiles>
        <profile name="default">
          <param name="rate" value="8000"/>
          <param name="interval" value="20"/>
          <param name="energy-level" value="100"/>
          <param name="timer-name" value="soft"/>
        </profile>
      </profiles>
    </configuration>
  </section>
  <section name="dialplan" description="">
    <context name="default">
      <extension name="bridge">
        <condition field="destination_number" expression="^bridge">
          <action application="set" data="hangup_after_bridge=true"/>
          <action application="bridge" data="sofia/internal/uas@$UAS"/>
        </condition>
      </extension>
      <extension name="conf">
        <condition field="destination_number" expression="^conf-(\w+)\$">
          <action application="answer"/>
          <action application="conference" data="\$1@default"/>
        </condition>
      </extension>
      <extension name="park">
        <condition field="destination_number" expression="^park">
          <action application="answer"/>
          <action application="park"/>
        </condition>
      </extension>
    </context>
  </section>
  <section name="directory" description=""><domain name="\$\${domain}"/></section>
</document>
XML
}

start_fs() {  # name ip
  local n=$1 ip=$2 d=$BASE/$1
  if [ -f "$d/run/freeswitch.pid" ] && kill -0 "$(cat "$d/run/freeswitch.pid")" 2>/dev/null; then echo "$n already running"; return; fi
  rm -f "$d/run/freeswitch.pid"
  # -ncwait: daemonize, return once the core is up. Separate dirs per instance; same module dir.
  "$FS_PREFIX/bin/freeswitch" -ncwait -nonat \
    -conf "$d/conf" -log "$d/log" -db "$d/db" -run "$d/run" -recordings "$d/recordings" \
    -sounds "$d/sounds" -storage "$d/storage" -cache "$d/cache" -mod "$FS_PREFIX/lib/freeswitch/mod" >"$d/log/stdout.log" 2>&1
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/$ip/8021") 2>/dev/null && { echo "$n up (pid $(cat "$d/run/freeswitch.pid"), ESL $ip:8021)"; return; }; sleep 0.2; done
  echo "$n: ESL not answering on $ip:8021" >&2; return 1
}

stop_fs() {  # name — SIGKILL by pid file (rows stay, like a crash); only our own instance
  local d=$BASE/$1
  if [ -f "$d/run/freeswitch.pid" ]; then kill -9 "$(cat "$d/run/freeswitch.pid")" 2>/dev/null || true; rm -f "$d/run/freeswitch.pid"; fi
}

case "${1:-start}" in
  start)
    start_pg
    write_conf fs-a 127.0.0.21 20000 20999
    write_conf fs-b 127.0.0.22 30000 30999
    start_fs fs-a 127.0.0.21
    start_fs fs-b 127.0.0.22 ;;
  stop) stop_fs fs-a; stop_fs fs-b ;;
  status)
    for n in fs-a fs-b; do f=$BASE/$n/run/freeswitch.pid; if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then echo "$n running pid $(cat "$f")"; else echo "$n stopped"; fi; done ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
