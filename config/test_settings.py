"""Settings for the test suite: the same as production's shape, on the local
PostgreSQL and Redis unless the environment names others."""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://root@127.0.0.1:5432/clinic")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_RESULT_BACKEND", os.environ["REDIS_URL"])
os.environ.setdefault(
    "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
)  # Playwright's sync API beside live_server

from .settings import *  # noqa: E402,F403

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # The same backend, with a flush that empties only the tables holding rows
    # (config/test_postgresql/base.py): transactional tests end sooner.
    DATABASES["default"]["ENGINE"] = "config.test_postgresql"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "clinic.sms.MemoryBackend"
SITE_URL = "http://testserver"
# Each test run gets its own queue so a stale message from an earlier run is never consumed.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", f"test-{os.getpid()}")
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# A 4xx answer is what most tests ask for (the permission matrix, the fuzzing):
# Django logs each as a warning with its traceback, formatted twice (console and
# pytest's capture). Server errors are still logged.
LOGGING["loggers"]["django.request"] = {"level": "ERROR"}  # noqa: F405
# Rate-limit counters in their own Redis database, away from the broker's,
# and under a prefix of each test process's own (pytest-xdist runs several):
# one process clearing its counters never clears another's.
CACHES["ratelimit"]["LOCATION"] = os.environ.get("RATELIMIT_REDIS_URL", "redis://127.0.0.1:6379/14")  # noqa: F405
CACHES["ratelimit"]["KEY_PREFIX"] = f"ratelimit-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"  # noqa: F405
# A checkpoint file of this run's own, never one left by an earlier run's database.
ACCESS_LOG_ANCHOR_FILE = os.path.join(
    tempfile.gettempdir(), f"clinic-test-anchors-{os.getpid()}.jsonl"
)
# Workers in tests look for tasks of a dead worker every second (production:
# every ~100 s, after an hour's visibility timeout), so a redelivery is seen
# within the test's patience.
if "visibility_timeout" in CELERY_BROKER_TRANSPORT_OPTIONS:  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS.update(  # noqa: F405
        {"unacked_restore_interval": 1, "unacked_restore_throttle": 1}
    )
