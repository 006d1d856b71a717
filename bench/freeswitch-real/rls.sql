-- Row-level security experiment (FINDINGS.md question b). Run as the superuser `postgres`.
-- The FreeSWITCH role fsrls is neither the owner of `recovery` nor a superuser.
do $$ begin if not exists (select from pg_roles where rolname = 'fsrls') then
  create role fsrls login password 'fsrls'; end if; end $$;
select 'create database freeswitch_rls' where not exists (select from pg_database where datname = 'freeswitch_rls')\gexec
\c freeswitch_rls
grant usage, create on schema public to fsrls;
-- FreeSWITCH's own DDL (src/switch_core_sqldb.c:3068-3076) and indexes (:3639-3642), created by postgres.
create table if not exists recovery (
   runtime_uuid    VARCHAR(255),
   technology      VARCHAR(255),
   profile_name    VARCHAR(255),
   hostname        VARCHAR(255),
   uuid            VARCHAR(255),
   metadata        text
);
create index if not exists recovery1 on recovery(technology);
create index if not exists recovery2 on recovery(profile_name);
create index if not exists recovery3 on recovery(uuid);
create index if not exists recovery4 on recovery(runtime_uuid);
create table if not exists mware_recovery_assign (uuid varchar(255) primary key, target varchar(255) not null);
grant select, insert, update, delete on recovery to fsrls;
grant select on mware_recovery_assign to fsrls;
alter table recovery enable row level security;
drop policy if exists recovery_sel on recovery;
drop policy if exists recovery_upd on recovery;
drop policy if exists recovery_del on recovery;
drop policy if exists recovery_ins on recovery;
create policy recovery_sel on recovery for select using (hostname = current_setting('application_name')
  or uuid in (select uuid from mware_recovery_assign where target = current_setting('application_name')));
create policy recovery_upd on recovery for update using (hostname = current_setting('application_name')
  or uuid in (select uuid from mware_recovery_assign where target = current_setting('application_name')));
create policy recovery_del on recovery for delete using (hostname = current_setting('application_name')
  or uuid in (select uuid from mware_recovery_assign where target = current_setting('application_name')));
create policy recovery_ins on recovery for insert with check (true);
