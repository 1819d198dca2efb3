"""Settings for the clinic journey app, read from the environment.

The defaults are the embedded mode: a SQLite file, a Celery broker on the file
system and e-mail on the console, so one command runs web, worker and beat on a
fresh machine. Production sets DATABASE_URL, REDIS_URL, SECRET_KEY,
ALLOWED_HOSTS and DJANGO_PRODUCTION=1 (see README).
"""

from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CLINIC_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

PRODUCTION = env.bool("DJANGO_PRODUCTION", default=False)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
else:
    # Only ever used on a developer's machine: production refuses to start without one.
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdef")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "clinic.apps.ClinicAdminConfig",  # django.contrib.admin on the clinic's own site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "django_ratelimit",
    "clinic",
    "intake",
    "eligibility",
    "sessions.apps.DosingConfig",
    "integration",
    "billing",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "clinic.middleware.UserLanguageMiddleware",
    "clinic.middleware.StaffTimeZoneMiddleware",
    "clinic.middleware.StaffSessionLimitsMiddleware",
    "clinic.middleware.StaffMFAMiddleware",
    "clinic.middleware.PrivateCacheMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "bench.urls" if env.bool("BENCH_FLOOR", default=False) else "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "clinic.context_processors.site",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'clinic.sqlite3'}"),
}
# Persistent connections: measured on this machine, a one-query template view
# serves ~100 req/s reconnecting every request and ~660 req/s with them.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; a web process and a worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "clinic.User"

# The database cache survives a Redis outage, which allauth's rate limits need
# (Django's RedisCache raises when Redis is down). The table comes from a migration.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "clinic_cache",
    },
    # Rendered fragments of public pages, in each web process's memory: never
    # anything a signed-in person sees, and keyed so that stale ones are not
    # looked up (a calendar version, the minute, the language).
    "fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "fragments",
        "TIMEOUT": 60,
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}

# --- Celery -----------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    # The exchange table: kombu's default is ./control, in the checkout.
    _control_dir = VAR_DIR / "celery" / "control"
    for _folder in (_queue_dir, _processed_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
    }
else:
    # A short connect timeout: nothing in a request publishes, but a beat or a
    # health check must not hang on a dead broker.
    # visibility_timeout: a task taken by a worker that dies (acks late) goes
    # back to the queue after this long; longer than any task runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Year-end statements asked for (billing.statements: the request writes a job row).
    "billing-statements": {
        "task": "billing.tasks.statements_build",
        "schedule": env.float("STATEMENTS_SWEEP_SECONDS", default=5.0),
        "options": {"expires": 60},
    },
    "outbox-sweep": {
        "task": "clinic.tasks.outbox_sweep",
        "schedule": env.float("OUTBOX_SWEEP_SECONDS", default=15.0),
        "options": {"expires": 60},
    },
    # The access log's sealer (clinic.access_log.access_log_seal): requests
    # write entries unsealed, this chains them; verify_access_log reports an
    # entry left unsealed past ACCESS_LOG_SEAL_GRACE_SECONDS.
    "access-log-seal": {
        "task": "clinic.tasks.access_log_seal",
        "schedule": env.float("ACCESS_LOG_SEAL_SECONDS", default=5.0),
        "options": {"expires": 30},
    },
    # The access log's monthly partitions, created ahead (clinic/access_log_partitions.py).
    "access-log-partitions": {
        "task": "clinic.tasks.access_log_partitions",
        "schedule": 86400.0,
        "options": {"expires": 3600},
    },
    "access-log-checkpoint": {
        "task": "clinic.tasks.access_log_checkpoint",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    # Visitors' requests whose e-mailed link expired (intake.services.expired_requests_purge).
    "intake-purge-expired-requests": {
        "task": "intake.tasks.purge_expired_requests",
        "schedule": env.float("INTAKE_PURGE_SECONDS", default=3600.0),
        "options": {"expires": 600},
    },
    # Session recordings past their retention date are queued for deletion
    # (each clinic's own midnight passes at a different hour), and the
    # queued ones (also those of a withdrawn filming consent) are deleted.
    "recordings-retention": {
        "task": "sessions.tasks.recordings_retention",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "recordings-delete": {
        "task": "sessions.tasks.recordings_delete",
        "schedule": env.float("RECORDINGS_DELETE_SECONDS", default=300.0),
        "options": {"expires": 240},
    },
}
# Where the access log's head is anchored (clinic/access_log.py): a file the
# database role cannot rewrite; in production, its own volume, append-only.
ACCESS_LOG_ANCHOR_FILE = env.str(
    "ACCESS_LOG_ANCHOR_FILE", default=str(VAR_DIR / "anchors" / "access-log.jsonl")
)
# An access-log entry still unsealed this long after it was written is
# reported by verify_access_log (the sealer runs every few seconds).
ACCESS_LOG_SEAL_GRACE_SECONDS = env.int("ACCESS_LOG_SEAL_GRACE_SECONDS", default=60)
# The access log's monthly partitions (clinic/access_log_partitions.py): beat
# keeps this month and this many after it created, daily.
ACCESS_LOG_PARTITIONS_AHEAD = env.int("ACCESS_LOG_PARTITIONS_AHEAD", default=3)
# How many whole months the access log stays in the database, where the privacy
# officer filters it in the admin, before `archive_access_log --due` exports a
# month to a checksummed file in ACCESS_LOG_ARCHIVE_DIR and detaches it. Two
# years online answers any complaint or "who read my file" request of the
# recent past at once; the archive files are kept as long as the health records
# themselves (README: "Access log: partitions, archive and retention").
ACCESS_LOG_RETENTION_MONTHS = env.int("ACCESS_LOG_RETENTION_MONTHS", default=24)
# A closed month is archived only this many days after it ends (a late write,
# a sealer catching up, a checkpoint of its last entries).
ACCESS_LOG_ARCHIVE_GRACE_DAYS = env.int("ACCESS_LOG_ARCHIVE_GRACE_DAYS", default=7)
ACCESS_LOG_ARCHIVE_DIR = env.str(
    "ACCESS_LOG_ARCHIVE_DIR", default=str(VAR_DIR / "archive" / "access-log")
)

# --- Accounts ---------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "clinic.backends.ModelBackend",
    "clinic.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home_after_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SIGNUP_FORM_CLASS = "clinic.forms.ClientSignupForm"
ACCOUNT_ADAPTER = "clinic.adapters.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Clinic] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="KAT Clinic")
# Activity tracking writes to the database on every request (five queries):
# the session list keeps its start time, address and browser without it.
USERSESSIONS_TRACK_ACTIVITY = False
# Re-authentication (before security changes) by password or second factor,
# never by a code e-mailed: an open inbox must not be enough to turn MFA off.
ACCOUNT_REAUTHENTICATION_METHODS = ("password", "mfa")
# Failed sign-ins (counted by the database cache, CACHES["default"]). The
# "key" of "login_failed" is the e-mail and the address together
# (clinic.adapters): a stranger's wrong passwords use up their own budget,
# not the owner's. Per address: 10 a minute and 100 an hour across accounts.
# Per account whatever the address: a ceiling of 100 an hour, far above what
# one address can spend on it (15), against a guess spread over many.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,100/h/ip,5/5m/key,15/h/key",
    "login_failed_account": "100/h/key",
}
# A staff member's authenticator is set up (or replaced) only through an
# e-mailed, single-use invitation; the link works for this many hours.
STAFF_INVITATION_HOURS = env.int("STAFF_INVITATION_HOURS", default=72)

# --- Internationalisation ---------------------------------------------------

# French is the default and listed first: the clinic's home is Quebec, where
# French must come first. A browser that asks for English gets English.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["clinic.formats"]

USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_COOKIE_NAME = "clinic_language"
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files and e-mail -----------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# Films of dosing sessions: a storage of their own, never under a served path
# and never with a URL; only sessions.views.recordings streams them (a
# dedicated permission, re-authentication, the access log). On the file
# system by default; in production any object store through django-storages
# (pip install '.[s3]'), configured from the environment (README, "Recordings").
RECORDINGS_STORAGE = env.str("RECORDINGS_STORAGE", default="filesystem")
if RECORDINGS_STORAGE == "filesystem":
    STORAGES["recordings"] = {
        "BACKEND": "clinic.storage.PrivateFileSystemStorage",
        "OPTIONS": {
            "location": env.str("RECORDINGS_ROOT", default=str(VAR_DIR / "private" / "recordings"))
        },
    }
elif RECORDINGS_STORAGE == "s3":
    STORAGES["recordings"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("RECORDINGS_S3_BUCKET"),
            "location": env.str("RECORDINGS_S3_PREFIX", default="recordings"),
            "endpoint_url": env.str("RECORDINGS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("RECORDINGS_S3_REGION", default=None),
            # Unset: boto3 finds credentials itself (instance role, ~/.aws, AWS_* variables).
            "access_key": env.str("RECORDINGS_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("RECORDINGS_S3_SECRET_ACCESS_KEY", default=None),
            # A random name never collides, and nothing may replace a stored film.
            "file_overwrite": False,
            # The bucket's own policy (private, public access blocked) decides:
            # no public-read ACL is ever sent.
            "default_acl": None,
            "querystring_auth": True,
            "object_parameters": (
                {"ServerSideEncryption": env.str("RECORDINGS_S3_ENCRYPTION")}
                if env.str("RECORDINGS_S3_ENCRYPTION", default="")
                else {}
            ),
        },
    }
else:
    raise ImproperlyConfigured("RECORDINGS_STORAGE must be 'filesystem' or 's3'.")

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="KAT Clinic <no-reply@clinic.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security ---------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # /healthz is probed over plain HTTP inside the compose network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# How many proxies (TLS terminator, load balancer) stand in front of gunicorn:
# the rate limits and the access log read the client's address through them.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_IP_META_KEY = "clinic.net.client_ip"
RATELIMIT_USE_CACHE = "ratelimit"
if REDIS_URL:
    # Shared and atomic across web processes; when Redis is down the limits
    # lapse (IGNORE_EXCEPTIONS) rather than the booking failing.
    CACHES["ratelimit"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
        "KEY_PREFIX": "ratelimit",
    }
    # Sessions read from Redis and written through to the database
    # (cached_db): a signed-in page pays no database read for its session,
    # and with Redis down (IGNORE_EXCEPTIONS) the database answers alone, so
    # nobody is signed out by an outage. Signing out elsewhere deletes both.
    CACHES["sessions"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
        "KEY_PREFIX": "session",
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "sessions"
    # The calendar's version (clinic.calendar.calendar_version), changed
    # after every booking and read by the slot page: in Redis it costs the
    # booking no second database transaction on one hot row. With Redis
    # down the change is lost, and the slot page's copies (keyed by the
    # minute too) lag by a minute at most; bookings check under their lock.
    CACHES["calendar"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
        "KEY_PREFIX": "calendar",
    }
else:
    # The embedded default runs one web process: an in-memory count is exact there.
    CACHES["ratelimit"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "ratelimit",
    }
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
    # Without Redis the calendar's version stays in the database cache, which
    # every web process shares.
    CACHES["calendar"] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "clinic_cache",
    }
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# With the counter's Redis down, booking goes on without a limit rather than
# refusing everyone (django-ratelimit would otherwise fail closed).
RATELIMIT_FAIL_OPEN = True

# backup_database encrypts with this key when it is set, and restore_database
# needs it for an encrypted file (32 random bytes, URL-safe base64; see README).
BACKUP_ENCRYPTION_KEY = env.str("BACKUP_ENCRYPTION_KEY", default="")

# The address people reach the site at, for links in e-mails sent by the worker.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SMS_BACKEND = env.str("SMS_BACKEND", default="clinic.sms.ConsoleBackend")
# Empty: the translated default name ("Ketamine-Assisted Therapy Clinic").
CLINIC_SITE_NAME = env.str("CLINIC_SITE_NAME", default="")
