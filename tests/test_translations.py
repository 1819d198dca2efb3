"""Every string a person can see exists in French: the catalogue is
regenerated from the source in a scratch copy and must have no entry left
untranslated or fuzzy."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib

BASE = Path(__file__).resolve().parents[1]
SOURCES = [
    "manage.py",
    "config",
    "clinic",
    "intake",
    "eligibility",
    "sessions",
    "integration",
    "billing",
    "demo",
    "templates",
    "locale",
]


def test_the_french_catalogue_covers_every_string_in_the_source(tmp_path):
    assert shutil.which("xgettext"), "gettext is needed: apt-get install gettext"
    for name in SOURCES:
        source = BASE / name
        if source.is_dir():
            shutil.copytree(
                source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "tests")
            )
        else:
            shutil.copy(source, tmp_path / name)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CLINIC_VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "fr", "--no-obsolete"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    catalogue = polib.pofile(str(tmp_path / "locale/fr/LC_MESSAGES/django.po"))
    missing = [entry.msgid for entry in catalogue if not entry.translated() and not entry.obsolete]
    assert not missing, f"{len(missing)} strings without French: {missing[:20]}"


def test_the_compiled_catalogue_matches_the_source_catalogue():
    po = polib.pofile(str(BASE / "locale/fr/LC_MESSAGES/django.po"))
    mo = polib.mofile(str(BASE / "locale/fr/LC_MESSAGES/django.mo"))
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0) for e in mo}
    for entry in po.translated_entries():
        expected = entry.msgstr or entry.msgstr_plural.get(0)
        assert compiled.get((entry.msgctxt, entry.msgid)) == expected, entry.msgid
