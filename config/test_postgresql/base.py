"""PostgreSQL for the test suite: Django's own backend, with a quicker flush.

A transactional test (browser tests behind live_server, the concurrency
races, a real Celery worker) ends with a flush of every table. Django's is one
TRUNCATE of all ~80 tables, which PostgreSQL pays per table and index (new
files, synced at commit) whether the table holds a row or not: about a second
a test on a quiet 2-core machine. This flush empties the same tables in one
statement, but only those that hold rows: DELETE where it can (Django's foreign
keys are deferred, so the order does not matter within the transaction), and
TRUNCATE ... CASCADE for a table whose own triggers refuse a DELETE (the
append-only access log and screening submissions). What a test sees after the
flush is the same: every model table empty, then post_migrate as before."""

from django.db.backends.postgresql import base, operations

FLUSH = """
DO $flush$
DECLARE
    name text;
    with_rows text[] := '{}';
    guarded text[] := '{}';
    has_row boolean;
BEGIN
    FOREACH name IN ARRAY ARRAY[%s]::text[] LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %%I)', name) INTO has_row;
        CONTINUE WHEN NOT has_row;
        IF EXISTS (
            SELECT 1 FROM pg_trigger
            WHERE tgrelid = name::regclass AND NOT tgisinternal
        ) THEN
            guarded := guarded || name;
        ELSE
            with_rows := with_rows || name;
        END IF;
    END LOOP;
    -- First the TRUNCATE: PostgreSQL refuses one on a table with trigger events
    -- pending, which the DELETEs below would leave (deferred foreign keys).
    IF cardinality(guarded) > 0 THEN
        EXECUTE 'TRUNCATE ' || (
            SELECT string_agg(format('%%I', g), ', ') FROM unnest(guarded) AS g
        ) || ' CASCADE';
    END IF;
    FOREACH name IN ARRAY with_rows LOOP
        EXECUTE format('DELETE FROM %%I', name);
    END LOOP;
END
$flush$;
"""


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or reset_sequences:
            return super().sql_flush(
                style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        names = ", ".join("'" + table.replace("'", "''") + "'" for table in tables)
        return [FLUSH % names]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
