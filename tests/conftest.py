"""Browser tests: Playwright drives Debian's Chromium against live_server.

`playwright install` cannot download browsers here, so the launch points at
/usr/bin/chromium, with the flags that keep it from calling out."""

import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=NetworkTimeServiceQuerying",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-CA", "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def page(page):
    page.set_default_timeout(10_000)
    return page


STARTED = pytest.StashKey[float]()
# The whole suite's last run, for bench/run.py's "test command" row.
TEST_RUN_RECORD = Path(__file__).resolve().parent.parent / "var" / "test-run.json"


def pytest_configure(config):
    config.stash[STARTED] = time.monotonic()


def pytest_sessionfinish(session, exitstatus):
    """In a pytest-xdist worker: hand the fuzzing counts to the controller.
    In the controller, after a run of the whole suite: record its wall time."""
    fuzz = sys.modules.get("tests.test_fuzz_forms")
    config = session.config
    output = getattr(config, "workeroutput", None)
    if output is not None:
        if fuzz is not None:
            output["fuzz_reached"] = fuzz.REACHED
        return
    # Not a whole run: tests named, selected by -k or -m, only the last
    # failures (--lf; the option is absent with -p no:cacheprovider), or
    # collected and not run.
    whole = config.args_source != pytest.Config.ArgsSource.ARGS and not (
        config.option.keyword
        or config.option.markexpr
        or getattr(config.option, "lf", False)
        or config.option.collectonly
    )
    if whole and session.testscollected:
        TEST_RUN_RECORD.parent.mkdir(exist_ok=True)
        TEST_RUN_RECORD.write_text(
            json.dumps(
                {
                    "seconds": round(time.monotonic() - config.stash[STARTED], 1),
                    "tests": session.testscollected,
                    "failed": session.testsfailed,
                    "workers": getattr(config.option, "numprocesses", None) or 0,
                    "exit_status": int(exitstatus),
                    "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
        )


def pytest_testnodedown(node, error):
    """In the controller: gather each worker's fuzzing counts."""
    reached = getattr(node, "workeroutput", {}).get("fuzz_reached")
    if reached:
        node.config.stash.setdefault(FUZZ_REACHED, {}).update(reached)


FUZZ_REACHED = pytest.StashKey[dict]()


def pytest_terminal_summary(terminalreporter, config):
    """How many fuzzing examples got through to each form (tests/test_fuzz_forms.py)."""
    fuzz = sys.modules.get("tests.test_fuzz_forms")
    reached = config.stash.get(FUZZ_REACHED, None) or (fuzz.REACHED if fuzz else None)
    if not reached:
        return
    terminalreporter.section("fuzzing: examples that reached each form")
    for form, (got_there, total, refused) in sorted(reached.items()):
        terminalreporter.write_line(
            f"{form}: {got_there} of {total} reached the form, {refused} refused (nothing changed)"
        )


@pytest.fixture
def superusers(clinic_qc):
    """Superusers who together read every admin: one plain, and one with each
    role some admins are kept to (the clinical ones for clinicians, the
    privacy officer's registers)."""
    from clinic.models import StaffRole
    from clinic.tests.factories import UserFactory, staff_create

    people = [UserFactory(email="root@example.com", is_staff=True, is_superuser=True)]
    for role in (StaffRole.THERAPIST, StaffRole.PRIVACY_OFFICER):
        people.append(
            staff_create(
                role=role,
                clinics=[clinic_qc],
                email=f"root.{role}@example.com",
                is_staff=True,
                is_superuser=True,
            )
        )
    return people
