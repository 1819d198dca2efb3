"""Every string a person can see exists in French: the catalogue is
regenerated from the source in a scratch copy and must have no entry left
untranslated or fuzzy."""

import os
import re
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


# --- English left outside {% translate %} -------------------------------------------

WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]{2,}")
# Attributes a person reads (or hears, with a screen reader).
READ_ATTRIBUTES = re.compile(
    r'\b(alt|title|placeholder|aria-label|aria-description|value)\s*=\s*"([^"]*)"', re.I
)
# Text that is the same in both languages, or only markup split by template tags.
NOT_ENGLISH = {
    "templates/base.html": {"Français English", "· Montréal · Vancouver"},
    "templates/bench/one_query.html": {"floor"},
}
MARKUP_ONLY = ("templates/allauth/elements/",)


def _visible_literals(source: str) -> list[str]:
    """Literal text a reader would see, outside translate tags: the template
    with every tag and variable blanked, then its HTML markup removed."""
    from django.template.base import Lexer, TokenType

    parts, skipping = [], 0
    for token in Lexer(source).tokenize():
        name = (token.contents.split() or [""])[0]
        if token.token_type == TokenType.BLOCK:
            if name in ("blocktranslate", "blocktrans", "comment"):
                skipping += 1
            elif name in ("endblocktranslate", "endblocktrans", "endcomment"):
                skipping -= 1
            parts.append("\x00")
        elif token.token_type != TokenType.TEXT or skipping:
            parts.append("\x00")
        else:
            parts.append(token.contents)
    text = re.sub(
        r"<script.*?</script>|<style.*?</style>|<!--.*?-->", " ", "".join(parts), flags=re.S | re.I
    )
    found = []
    for tag in re.findall(r"<[^>]*>", text):
        for attribute, value in READ_ATTRIBUTES.findall(tag):
            # An <input> button shows its value; a <button>'s value is only sent.
            is_button = tag.startswith("<input") and (
                'type="submit"' in tag or 'type="button"' in tag
            )
            if (attribute.lower() != "value" or is_button) and WORD.search(
                value.replace("\x00", " ")
            ):
                found.append(value)
    text = re.sub(r"&[a-zA-Z]+;|&#\d+;", " ", re.sub(r"<[^>]*>", " ", text))
    for line in text.split("\n"):
        line = " ".join(line.replace("\x00", " ").split())
        if WORD.search(line):
            found.append(line)
    return found


def test_no_template_shows_english_outside_translate_tags():
    problems = []
    for path in sorted((BASE / "templates").rglob("*.html")):
        relative = str(path.relative_to(BASE))
        if relative.startswith(MARKUP_ONLY):
            continue
        allowed = NOT_ENGLISH.get(relative, set())
        problems += [
            f"{relative}: {text!r}"
            for text in _visible_literals(path.read_text(encoding="utf-8"))
            if text not in allowed
        ]
    assert not problems, "\n".join(problems)


def test_the_template_scan_finds_english_left_untranslated():
    """The scan itself: text, a button's label and an aria-label left in English."""
    source = (
        '{% load i18n %}<p>{% translate "Fine" %}</p><p>Book now</p>'
        '<input type="submit" value="Send"><nav aria-label="Pages">'
        "{% blocktranslate %}Also fine{% endblocktranslate %}"
    )
    assert _visible_literals(source) == ["Send", "Pages", "Book now"]
