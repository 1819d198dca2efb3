"""Print the modules `make check` type-checks: every app's services.py and
selectors.py (apps gain them as they grow), and the core's service modules,
split by area."""

from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
APPS = ["clinic", "intake", "eligibility", "sessions", "integration", "billing"]
CORE_AREAS = [
    "journey",
    "calendar",
    "outbox",
    "access_log",
    "accounts",
    "privacy",
    "emails",
    "permissions",
]

targets = [
    BASE / app / f"{name}.py"
    for app in APPS
    for name in ("services", "selectors")
    if (BASE / app / f"{name}.py").exists()
]
targets += [BASE / "clinic" / f"{area}.py" for area in CORE_AREAS]
print(" ".join(str(path.relative_to(BASE)) for path in targets))
