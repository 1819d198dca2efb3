"""Print the modules `make check` type-checks: every app's services and
selectors (a module, or a package of modules once an app has several areas),
and the core's service modules, split by area."""

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

targets = []
for app in APPS:
    for name in ("services", "selectors"):
        module = BASE / app / f"{name}.py"
        package = BASE / app / name
        if module.exists():
            targets.append(module)
        elif package.is_dir():  # an app whose services grew into a package, one area a module
            targets += sorted(package.glob("*.py"))
        # An area of an app kept in a package of its own (integration/groups/).
        targets += sorted(BASE.glob(f"{app}/*/{name}.py"))
targets += [BASE / "clinic" / f"{area}.py" for area in CORE_AREAS]
print(" ".join(str(path.relative_to(BASE)) for path in targets))
