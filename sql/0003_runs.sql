-- 0003_runs: what dbrpcserver needs to run curation steps, and the read-only role.
--
-- * ProgrammeCurationHistory learns which lease a run ran under and the command that started
--   it (argv as a JSON array), so that `resume` can run a failed run again.
-- * ResumableRun: failed runs not yet made good. A resumed run points at the run it makes good
--   through resumeOf, always the first (root) run of the chain, so a chain of failures is
--   resumed once.
-- * wsa_reader: the role of QueryHandler and archiveweb. Read-only by grants (SELECT only),
--   with limits on every session it opens.

ALTER TABLE ProgrammeCurationHistory
    ADD COLUMN holder        varchar(256) NOT NULL DEFAULT 'NONE',
    ADD COLUMN fencingToken  bigint NOT NULL DEFAULT -99999999,
    ADD COLUMN command       jsonb NOT NULL DEFAULT '[]'
                             CHECK (jsonb_typeof(command) = 'array');

CREATE INDEX programmecurationhistory_resume ON ProgrammeCurationHistory (resumeOf)
    WHERE resumeOf IS NOT NULL;
CREATE INDEX programmecurationhistory_status ON ProgrammeCurationHistory (status)
    WHERE status <> 'succeeded';

CREATE VIEW ResumableRun AS
SELECT r.cuEventID, r.cuID, t.name AS cuName, r.programmeID, p.name AS programme,
       r.startedAt, r.endedAt, r.errorText, r.command, r.arguments,
       (SELECT count(*) FROM ProgrammeCurationHistory f
         WHERE f.resumeOf = r.cuEventID AND f.status = 'failed') AS failedResumes
FROM ProgrammeCurationHistory r
JOIN CurationTask t USING (cuID)
JOIN Programme p USING (programmeID)
WHERE r.status = 'failed'
  AND r.resumeOf IS NULL
  AND NOT EXISTS (SELECT 1 FROM ProgrammeCurationHistory s
                  WHERE s.resumeOf = r.cuEventID AND s.status IN ('succeeded', 'started'));

-- The read-only role. Roles belong to the cluster, so another database may have made it, and
-- migrations of several databases may run at once: settings are only changed when they differ,
-- and a concurrent change of the role ("tuple concurrently updated") is retried.
DO $$
DECLARE
    wanted text[] := ARRAY['default_transaction_read_only=on', 'statement_timeout=300s',
                           'idle_in_transaction_session_timeout=600s', 'jit=off', 'temp_file_limit=4GB'];
    setting text;
    attempt int;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'wsa_reader') THEN
        BEGIN
            CREATE ROLE wsa_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- made by a concurrent migration
        END;
    END IF;
    FOREACH setting IN ARRAY wanted LOOP
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
            WHERE r.rolname = 'wsa_reader' AND s.setdatabase = 0 AND setting = ANY (s.setconfig));
        FOR attempt IN 1..20 LOOP
            BEGIN
                EXECUTE format('ALTER ROLE wsa_reader SET %s = %L',
                               split_part(setting, '=', 1), split_part(setting, '=', 2));
                EXIT;
            EXCEPTION
                WHEN insufficient_privilege THEN
                    RAISE NOTICE 'wsa_reader: % not set (needs a superuser)', setting;
                    EXIT;
                WHEN internal_error OR unique_violation THEN
                    PERFORM pg_sleep(0.05 * attempt);
            END;
        END LOOP;
    END LOOP;
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO wsa_reader', current_database());
END
$$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO wsa_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO wsa_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO wsa_reader;
-- The lease functions are not SECURITY DEFINER: for wsa_reader they fail on the missing UPDATE
-- grant. q3c's functions stay executable by everyone (cone searches).
