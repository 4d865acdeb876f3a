"""Settings for the forum site: one module, driven by environment variables.

It fails closed: without DJANGO_DEBUG=true it is production, and refuses to start without a
real secret key, its allowed hosts and its public address. `make run` and `make test` set
development mode themselves; development then needs nothing else (SQLite file in the project
folder, local-memory cache, a secret key generated once per checkout into an ignored file).
Every variable is listed in .env.example.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# Development's secret key: made once per checkout, never committed (.gitignore).
DEVELOPMENT_SECRET_KEY_FILE = BASE_DIR / ".development-secret-key"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """An integer variable; unset or empty (as in .env.example) is the default."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or default


def require_production_setting(name: str, value, problem: str) -> None:
    if not value:
        raise ImproperlyConfigured(
            f"{name} is missing: in production (DJANGO_DEBUG is not true) the site needs "
            f"{problem}. "
            f"Set {name} in the environment (see .env.example)."
        )


def development_secret_key() -> str:
    """This checkout's own development key, made on first use."""
    try:
        return DEVELOPMENT_SECRET_KEY_FILE.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        DEVELOPMENT_SECRET_KEY_FILE.write_text(key + "\n")
        DEVELOPMENT_SECRET_KEY_FILE.chmod(0o600)
        return key


# Unset is production: a forgotten variable must not open the debug pages and a known key.
DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
# The public address of the site, used for links in emails (never the request's Host).
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
if DEBUG:
    SECRET_KEY = SECRET_KEY or development_secret_key()
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
    # `make run` passes the address it serves on (HOST_PORT).
    SITE_URL = SITE_URL or "http://127.0.0.1:8000"
else:
    require_production_setting(
        "DJANGO_SECRET_KEY",
        len(SECRET_KEY) >= 32,
        "a real secret key of at least 32 random characters",
    )
    require_production_setting(
        "DJANGO_ALLOWED_HOSTS", ALLOWED_HOSTS, "the host names it serves, comma-separated"
    )
    require_production_setting(
        "SITE_URL",
        SITE_URL.startswith(("https://", "http://")),
        "its public address for links in emails, e.g. https://essays.example.org",
    )

# Social login is off unless providers are named, e.g. "github,google", each with
# SOCIAL_<PROVIDER>_CLIENT_ID and SOCIAL_<PROVIDER>_SECRET.
SOCIAL_LOGIN_PROVIDERS = env_list("SOCIAL_LOGIN_PROVIDERS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "allauth",
    "allauth.account",
    *(["allauth.socialaccount"] if SOCIAL_LOGIN_PROVIDERS else []),
    *[f"allauth.socialaccount.providers.{provider}" for provider in SOCIAL_LOGIN_PROVIDERS],
    "forum.accounts",
    "essays",
    "forum.discussion",
    "forum.moderation",
    "forum.subscriptions",
    "forum.operations",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "forum.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "forum.middleware.ContentSecurityPolicyMiddleware",
    # A reading page every visitor gets, from the cache, answered before the middleware that
    # has nothing to do for it (see forum/middleware.py's PASSED_OVER).
    "forum.middleware.EveryonesPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "forum.middleware.RefusalMiddleware",
    # A database outage in a view is a 503 that keeps the reader's text. Its process_exception
    # sees only what the view raised, and its answer still passes every middleware above (CSP,
    # CSRF cookie); one met in a middleware is answered by handler500 (forum/urls.py).
    "forum.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "forum.urls"
WSGI_APPLICATION = "forum.wsgi.application"
ASGI_APPLICATION = "forum.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "forum.subscriptions.context_processors.notifications",
                "forum.discussion.context_processors.page_hooks",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DEBUG:
    # A forgotten variable must not give each machine a database file of its own.
    require_production_setting(
        "DATABASE_URL", DATABASE_URL, "its database, e.g. postgres://USER:PASSWORD@HOST:5432/NAME"
    )
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Production keeps each process's connection for a minute (opening one per request
        # cost two thirds of a cached page's time); development closes it after each.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0 if DEBUG else 60),
        # A connection kept between requests is checked before use: after a database
        # restart, the first request of each process must not meet the dead one.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # `make run` writes from two processes (the web server and the worker): write-ahead
    # logging lets readers go on during a write, a busy timeout waits for the lock instead
    # of failing with "database is locked", and IMMEDIATE transactions take the write lock
    # at BEGIN, so a transaction never has to upgrade its lock halfway (which fails at once).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters travel apart from the SQL, and a statement a connection has run a few times
    # is prepared: PostgreSQL parses and plans the site's same few queries once per
    # connection, not on every request (a quarter of its work on a post). Behind a pooler
    # that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode),
    # DATABASE_PREPARED_STATEMENTS=false. The URL's own options (sslmode...) stay.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=5 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None,
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if not DEBUG:
    # Rate limits, lockouts and the cache must be shared by every web process: a cache per
    # process lets each one count on its own (two workers doubled every limit).
    require_production_setting(
        "REDIS_URL",
        REDIS_URL.startswith(("redis://", "rediss://", "unix://")),
        "a shared cache for rate limits and lockouts, e.g. redis://127.0.0.1:6379/0",
    )
if REDIS_URL:
    CACHES = {
        "default": {
            # When Redis is away, pages still render (forum/cache.py); short timeouts make
            # an unreachable Redis cost a reader half a second at worst, not a hung request.
            "BACKEND": "forum.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions are read from the cache and kept in the database (forum/sessions.py).
SESSION_ENGINE = "forum.sessions"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # allauth's backend (email and password), with the signed-in account read from the
    # cache on each request (forum/accounts/backends.py).
    "forum.accounts.backends.AuthenticationBackend",
    # Sessions made before it name these; they stay valid.
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "discussion:home"

# Accounts (django-allauth): log in by email; a verified address is needed to comment,
# not to log in, so a newcomer can read signed in while the confirmation email travels.
ACCOUNT_ADAPTER = "forum.accounts.adapter.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "forum.accounts.forms.SignupForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Adding, removing or promoting an email address (or linking a social account) asks for the
# password again, good for ACCOUNT_REAUTHENTICATION_TIMEOUT (5 minutes): a stolen session must
# not become a stolen account.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Margins] "
SOCIALACCOUNT_PROVIDERS = {
    provider: {
        "APP": {
            "client_id": os.environ.get(f"SOCIAL_{provider.upper()}_CLIENT_ID", ""),
            "secret": os.environ.get(f"SOCIAL_{provider.upper()}_SECRET", ""),
        }
    }
    for provider in SOCIAL_LOGIN_PROVIDERS
}

# Email: printed to the console in development; SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 20
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Margins <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security headers. HTTPS-only settings follow DJANGO_SECURE_SSL (on by default in production).
SECURE_SSL = env_bool("DJANGO_SECURE_SSL", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_SSL_REDIRECT = SECURE_SSL and env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# HSTS for subdomains, and the browsers' preload list, commit every subdomain to HTTPS for a
# year or more: the owner decides (DJANGO_HSTS_INCLUDE_SUBDOMAINS, DJANGO_HSTS_PRELOAD, true or
# false). Left unset, `check --deploy` warns until they do; set to false, it no longer asks.
HSTS_DECISIONS = {
    "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "security.W005",
    "DJANGO_HSTS_PRELOAD": "security.W021",
}
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
if SECURE_HSTS_PRELOAD and not SECURE_HSTS_INCLUDE_SUBDOMAINS:
    raise ImproperlyConfigured(
        "DJANGO_HSTS_PRELOAD needs DJANGO_HSTS_INCLUDE_SUBDOMAINS=true: the browsers' preload "
        "list refuses a site whose subdomains are not on HTTPS too."
    )
SILENCED_SYSTEM_CHECKS = [
    check
    for variable, check in HSTS_DECISIONS.items()
    if os.environ.get(variable, "").strip() and not env_bool(variable, False)
]
# The preload list asks for at least a year.
SECURE_HSTS_SECONDS = env_int(
    "DJANGO_HSTS_SECONDS", 0 if DEBUG else (31536000 if SECURE_HSTS_PRELOAD else 3600)
)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_PROXY", False) else None
)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# No inline scripts or styles anywhere: the policy below forbids them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

# No page of ours uses these browser features: deny them to anything the page might load.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)
# Django's own CSRF failure page has inline styles, which the policy above blocks.
CSRF_FAILURE_VIEW = "forum.views.csrf_failure"

# Re-anchoring paragraphs across revisions (essays/reanchoring.py explains the algorithm).
REANCHOR_MIN_TEXT_SIMILARITY = 0.4  # below this, texts are different paragraphs
REANCHOR_MIN_SCORE = 0.5  # weighted score a fuzzy match needs
REANCHOR_WEIGHTS = (0.7, 0.2, 0.1)  # text, neighbours, position
# Above this many paragraphs (before or after), a revision is published by the task worker:
# matching and applying a book's worth of paragraphs must not race the web server's timeout.
PUBLISH_IN_WORKER_ABOVE = 300
# How often an open discussion asks whether others have written (static/js/discussion.js).
LIVE_THREADS_POLL_SECONDS = 20

# Commenting. Rate limits are (how many, per how many seconds), all of which apply.
COMMENT_MAX_LENGTH = 10_000
COMMENT_RATE_LIMITS = [(5, 60), (40, 3600)]
# Moderation (forum/moderation/rules.py applies these).
# The class that answers the discussion's questions (forum/discussion/policy.py).
DISCUSSION_POLICY = "forum.moderation.policy.ModerationPolicy"
MODERATION_FIRST_COMMENTS_REVIEWED = env_int("MODERATION_FIRST_COMMENTS_REVIEWED", 1)
MODERATION_LINK_LIMIT = env_int("MODERATION_LINK_LIMIT", 3)
# The trust ladder (forum/moderation/rules.py, `Rung`): an account starts New, becomes a
# Member after so many published comments and so many days without a removal, and Trusted
# after more; a removal starts the days again. New accounts: their first comments reviewed
# (above), fewer links before review, comments an hour and replies an hour to members who
# never replied to them. Members have the site's limits; trusted members more links.
MODERATION_NEW_LINK_LIMIT = env_int("MODERATION_NEW_LINK_LIMIT", 1)
MODERATION_NEW_COMMENTS_PER_HOUR = env_int("MODERATION_NEW_COMMENTS_PER_HOUR", 10)
MODERATION_NEW_STRANGER_REPLIES_PER_HOUR = env_int("MODERATION_NEW_STRANGER_REPLIES_PER_HOUR", 3)
MODERATION_MEMBER_AFTER_COMMENTS = env_int("MODERATION_MEMBER_AFTER_COMMENTS", 3)
MODERATION_MEMBER_AFTER_DAYS = env_int("MODERATION_MEMBER_AFTER_DAYS", 2)
MODERATION_TRUSTED_AFTER_COMMENTS = env_int("MODERATION_TRUSTED_AFTER_COMMENTS", 20)
MODERATION_TRUSTED_AFTER_DAYS = env_int("MODERATION_TRUSTED_AFTER_DAYS", 30)
MODERATION_TRUSTED_LINK_LIMIT = env_int("MODERATION_TRUSTED_LINK_LIMIT", 10)
# An edit of a published comment goes back to review when the author had a comment
# removed within this many days.
MODERATION_RECENT_REMOVAL_DAYS = env_int("MODERATION_RECENT_REMOVAL_DAYS", 30)
MODERATION_HIDE_THRESHOLD = env_int("MODERATION_HIDE_THRESHOLD", 3)
REPORT_RATE_LIMITS = [(10, 3600)]
# Posting attempts while logged out, per client address.
ANONYMOUS_POST_RATE_LIMITS = [(10, 600)]
# Previews, on every path that renders one (per member, or per address when logged out).
PREVIEW_RATE_LIMITS = [(60, 60)]
# An identical comment by the same author in the same place within this many seconds is
# the same post sent twice (a double click, a retry): the first one is the answer.
DUPLICATE_POST_WINDOW = 30
# Behind a proxy, the client address is the last entry it appends to X-Forwarded-For.
CLIENT_ADDRESS_FROM_FORWARDED_FOR = env_bool("DJANGO_BEHIND_PROXY", False)

# Background work: Django's tasks API on the database (`manage.py worker` runs it).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The worker (`manage.py worker`, forum/operations/worker.py) says it is alive this often; a
# worker silent for WORKER_PRESUMED_DEAD_AFTER seconds is presumed dead and its tasks are run
# again by another. A task is tried at most TASK_MAX_ATTEMPTS times.
WORKER_HEARTBEAT_SECONDS = float(os.environ.get("WORKER_HEARTBEAT_SECONDS") or 10)
WORKER_PRESUMED_DEAD_AFTER = float(os.environ.get("WORKER_PRESUMED_DEAD_AFTER") or 60)
TASK_MAX_ATTEMPTS = 5
# Housekeeping (`manage.py housekeeping`, daily) deletes finished task results this old.
TASK_RESULTS_KEPT_DAYS = 30
# Seconds an immediate email waits so that a burst of replies becomes one email.
NOTIFICATION_EMAIL_WINDOW = env_int("NOTIFICATION_EMAIL_WINDOW", 120)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}
