"""Fail when a construct that bypasses Django's protections appears outside
the reviewed allow-list: `|safe`, `mark_safe`, `csrf_exempt`, raw SQL
(`.raw(`, `.extra(`, `cursor()`, `RawSQL`), and a CSV writer other than
clinic/csv_safe.py's (which keeps cells from running as formulas). A new
use needs a review and a line here saying why it is safe."""

import re
import sys
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
PATTERNS = {
    "|safe": re.compile(r"\|\s*safe\b"),
    "mark_safe": re.compile(r"\bmark_safe\b"),
    "csrf_exempt": re.compile(r"\bcsrf_exempt\b"),
    "raw SQL": re.compile(r"\.raw\(|\.extra\(|\bcursor\(\)|\bRawSQL\b"),
    "csv writer": re.compile(r"\bcsv\.(writer|DictWriter)\b"),
}
# (path, construct): why it was allowed.
ALLOWED = {
    (
        "bench/run.py",
        "raw SQL",
    ): "the benchmark's --explain replays the app's own captured queries under EXPLAIN",
    ("clinic/views.py", "raw SQL"): "/healthz runs SELECT 1 to see that the database answers",
    (
        "clinic/backends.py",
        "raw SQL",
    ): "the signed-in person's query, compiled by the ORM once and run with the person's key as "
    "its one bound parameter (no text from the request enters the SQL)",
    (
        "demo/management/commands/seed_scale.py",
        "raw SQL",
    ): "ANALYZE after the bulk load, a constant statement with no input",
    (
        "clinic/access_log.py",
        "raw SQL",
    ): "the sealer's pg_try_advisory_xact_lock with a constant key, its one UPDATE per "
    "batch, and a request's entries in one INSERT ... SELECT FROM unnest (constant table "
    "name, every value a parameter)",
    (
        "sessions/templatetags/board_cells.py",
        "mark_safe",
    ): "the room board's cells: _html escapes every argument as format_html does (html.escape, "
    "or the value's own __html__) into a constant template; _joined joins only _html's parts",
    (
        "clinic/access_log_partitions.py",
        "raw SQL",
    ): "partition DDL (CREATE TABLE ... PARTITION OF, DETACH): the table names are constants "
    "or built from a month's integers (partition_name), the bounds are bound parameters",
    (
        "clinic/access_log_archive.py",
        "raw SQL",
    ): "the archive's advisory lock (a constant key), LOCK TABLE, DETACH and DROP of the month's "
    "partition, named from the month's integers (partition_name)",
    (
        "demo/access_log_scale.py",
        "raw SQL",
    ): "the scale seed's INSERT ... SELECT generate_series: every value a bound parameter, "
    "the table names built from a month's integers",
    (
        "clinic/csv_safe.py",
        "csv writer",
    ): "the one CSV writer, which neutralises cells a spreadsheet would run as formulas",
    (
        "templates/allauth/elements/fields.html",
        "|safe",
    ): "allauth's help texts are the app's own strings, not user input",
    (
        "sessions/views/recordings.py",
        "csrf_exempt",
    ): "the recordings upload sets its streaming upload handler before the body is read, then "
    "checks CSRF itself with csrf_protect (Django's documented way); a test posts without the "
    "token and is refused",
}
SKIP_PARTS = {".venv", "migrations", "tests", "staticfiles", "node_modules", "var", "scripts"}


def main() -> int:
    problems = []
    for path in sorted(BASE.rglob("*")):
        if path.suffix not in {".py", ".html", ".txt"} or SKIP_PARTS & set(
            path.relative_to(BASE).parts
        ):
            continue
        relative = str(path.relative_to(BASE))
        text = path.read_text(encoding="utf-8", errors="replace")
        for name, pattern in PATTERNS.items():
            if pattern.search(text) and (relative, name) not in ALLOWED:
                problems.append(
                    f"{relative}: {name} is not on the reviewed allow-list (scripts/check_unsafe.py)"
                )
    for problem in problems:
        print(problem)
    print(f"check_unsafe: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
