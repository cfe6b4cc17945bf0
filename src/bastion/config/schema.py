"""Every setting Bastion reads, each declared once: name, parser, defaults, description.

The loader, ``.env.example`` and the README's table all come from this one list.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from bastion.config import parsers
from bastion.config.database import mask_database_url, parse_database_url
from bastion.config.parsers import Parser

PROFILES = ("development", "production", "testing")
# Days audit events may be kept, for the setting and `bastion audit prune --days`.
AUDIT_RETENTION_RANGE = (1, 3650)


@dataclass(frozen=True)
class Setting:
    """The declaration of one setting."""

    name: str
    parse: Parser
    default: object
    description: str
    secret: bool = False
    profile_defaults: dict[str, object] = field(default_factory=dict)
    # How a secret may be shown when part of it is safe to show; else it is masked.
    show: Callable[[str], str] | None = None

    def default_for(self, profile: str) -> object:
        """Return this setting's default in ``profile``."""
        return self.profile_defaults.get(profile, self.default)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "APP_ENV",
        parsers.choice(*PROFILES),
        "development",
        "Profile: development, production or testing. FLASK_ENV is read as the same.",
    ),
    Setting(
        "SECRET_KEY",
        parsers.parse_key,
        None,
        "Key that signs sessions and CSRF tokens. Required in production; "
        "generate one with `bastion gen-key`.",
        secret=True,
    ),
    Setting(
        "SECRET_KEY_FALLBACKS",
        parsers.key_list,
        None,
        "Earlier keys, comma-separated, still accepted for sessions and forms "
        "after a rotation (see `bastion rotate-key`).",
        secret=True,
    ),
    Setting(
        "DEBUG",
        parsers.parse_bool,
        False,
        "Flask debug mode (true/false). Refused in production.",
    ),
    Setting(
        "HOST",
        parsers.parse_host,
        "127.0.0.1",
        "Address gunicorn listens on. Use 0.0.0.0 only behind a firewall or proxy.",
    ),
    Setting(
        "PORT",
        parsers.integer(1, 65535),
        8000,
        "Port gunicorn listens on.",
    ),
    Setting(
        "WORKERS",
        parsers.integer(1, 64),
        2,
        "Number of gunicorn worker processes.",
    ),
    Setting(
        "SESSION_LIFETIME_HOURS",
        parsers.positive_number(24 * 366),
        24.0,
        "Absolute limit of a sign-in, in hours, however active (ASVS L2: 12).",
        profile_defaults={"production": 12.0},
    ),
    Setting(
        "SESSION_IDLE_MINUTES",
        parsers.positive_number(24 * 60),
        30.0,
        "A sign-in with no request for this many minutes ends.",
    ),
    Setting(
        "REMEMBER_DAYS",
        parsers.positive_number(366),
        14.0,
        'How long "remember me" keeps a device signed in, in days.',
    ),
    Setting(
        "REAUTH_MINUTES",
        parsers.positive_number(24 * 60),
        15.0,
        "Sensitive actions need a password entered within this many minutes.",
    ),
    Setting(
        "PASSWORD_MIN_LENGTH",
        parsers.integer(8, 128),
        12,
        "Shortest password accepted at registration and password change.",
    ),
    Setting(
        "TRUSTED_HOSTS",
        parsers.host_list,
        None,
        "Host names the site answers to; any other Host header gets 400. "
        "Required in production.",
        profile_defaults={
            "development": ("localhost", "127.0.0.1", "::1"),
            "testing": ("localhost",),
        },
    ),
    Setting(
        "TRUSTED_PROXY_HOPS",
        parsers.integer(0, 10),
        0,
        "Proxies in front of the app whose X-Forwarded-For/Proto/Host are believed "
        "(0: none).",
    ),
    Setting(
        "FORCE_HTTPS",
        parsers.parse_bool,
        False,
        "Redirect plain-http requests to https with a 301 (health checks exempt).",
        profile_defaults={"production": True},
    ),
    Setting(
        "HSTS_PRELOAD",
        parsers.parse_bool,
        False,
        "Add preload to Strict-Transport-Security (production only).",
    ),
    Setting(
        "CSP_REPORT_ONLY",
        parsers.parse_bool,
        False,
        "Send the CSP as Report-Only: violations are reported, not blocked.",
    ),
    Setting(
        "CSP_REPORT_URI",
        parsers.optional_text,
        None,
        "Where browsers send CSP violation reports (report-uri), e.g. /csp-reports.",
    ),
    Setting(
        "RATELIMIT_STORAGE_URL",
        parsers.storage_url,
        "memory://",
        "Where rate-limit counters live. memory:// counts per worker; use "
        "redis://host:6379/0 to share them across workers and servers.",
        secret=True,
        show=mask_database_url,
    ),
    Setting(
        "RATELIMIT_SIGN_IN_PER_IP",
        parsers.rate_limits,
        "60 per minute; 600 per hour",
        "Sign-in attempts allowed from one client address.",
    ),
    Setting(
        "RATELIMIT_REGISTER_PER_IP",
        parsers.rate_limits,
        "10 per hour; 50 per day",
        "Accounts that one client address may create. Each costs a password hash "
        "and an audit row.",
        profile_defaults={"testing": "1000 per minute"},
    ),
    Setting(
        "RATELIMIT_SIGN_IN_PER_ACCOUNT",
        parsers.rate_limits,
        "10 per minute; 60 per hour",
        "Sign-in attempts allowed for one username, from anywhere.",
    ),
    Setting(
        "RATELIMIT_PASSWORD_CHECKS",
        parsers.rate_limits,
        "10 per 10 minutes",
        "Password re-entries and password changes allowed per signed-in user.",
    ),
    Setting(
        "MAX_CONTENT_LENGTH",
        parsers.integer(1024, 1024**3),
        1024 * 1024,
        "Largest request body accepted, in bytes; larger ones get 413.",
    ),
    Setting(
        "LOG_LEVEL",
        parsers.choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        "INFO",
        "Lowest level of log records written to stderr.",
    ),
    Setting(
        "LOG_FORMAT",
        parsers.choice("text", "json"),
        "text",
        "Log records as readable text lines, or as one JSON object per line.",
        profile_defaults={"production": "json"},
    ),
    Setting(
        "LOG_ACCESS",
        parsers.parse_bool,
        True,
        "Write one access line per request (method, status, time, user, path). Turn "
        "off only when the proxy in front logs requests: it costs the sign-in page "
        "about 5% of its throughput.",
    ),
    Setting(
        "LOG_PSEUDONYMIZE",
        parsers.parse_bool,
        False,
        "Write usernames as a keyed hash, in the logs and the audit table alike "
        "(stable until SECRET_KEY changes); user ids are kept, so a timeline joins up.",
    ),
    Setting(
        "AUDIT_RETENTION_DAYS",
        parsers.integer(*AUDIT_RETENTION_RANGE),
        90,
        "Days audit events are kept; `bastion audit prune` deletes older ones.",
    ),
    Setting(
        "DATABASE_URL",
        parse_database_url,
        None,
        "Database URL, e.g. postgresql://user:pass@host/db (postgres:// works too). "
        "Overrides DATABASE_PATH.",
        secret=True,
        show=mask_database_url,
    ),
    Setting(
        "DATABASE_PATH",
        parsers.text(),
        "instance/users.db",
        "SQLite file used when DATABASE_URL is unset (testing: in memory).",
        profile_defaults={"testing": ":memory:"},
    ),
    Setting(
        "DB_POOL_SIZE",
        parsers.integer(1, 1000),
        10,
        "Connections each worker keeps open to a PostgreSQL server.",
    ),
    Setting(
        "DB_MAX_OVERFLOW",
        parsers.integer(0, 1000),
        20,
        "Extra connections a worker may open beyond DB_POOL_SIZE under load.",
    ),
    Setting(
        "DB_POOL_PRE_PING",
        parsers.parse_bool,
        True,
        "Test each pooled connection before use, so a restarted database is survived.",
    ),
    Setting(
        "DB_POOL_RECYCLE_SECONDS",
        parsers.integer(0, 86400),
        1800,
        "Replace pooled connections older than this (0: never).",
    ),
    Setting(
        "DB_CONNECT_TIMEOUT_SECONDS",
        parsers.integer(1, 300),
        5,
        "Give up connecting to the database after this many seconds.",
    ),
    Setting(
        "DB_STATEMENT_TIMEOUT_MS",
        parsers.integer(0, 3_600_000),
        30000,
        "PostgreSQL cancels a statement running longer than this (0: no limit).",
    ),
    Setting(
        "DB_STARTUP_WAIT_SECONDS",
        parsers.integer(0, 3600),
        30,
        "At start-up, keep retrying an unreachable database this long, then exit 3.",
    ),
    Setting(
        "INSTANCE_PATH",
        parsers.text(),
        "instance",
        "Folder for local state: the SQLite file and the generated development key.",
    ),
    Setting(
        "PASSWORD_HASH_MEMORY_KIB",
        parsers.integer(19456, 4 * 1024 * 1024),
        65536,
        "Argon2id memory cost in KiB (OWASP minimum 19456).",
        profile_defaults={"testing": 19456},
    ),
    Setting(
        "PASSWORD_HASH_ITERATIONS",
        parsers.integer(2, 100),
        3,
        "Argon2id time cost (OWASP minimum 2).",
        profile_defaults={"testing": 2},
    ),
    Setting(
        "PASSWORD_HASH_PARALLELISM",
        parsers.integer(1, 64),
        4,
        "Argon2id lanes (OWASP minimum 1).",
        profile_defaults={"testing": 1},
    ),
)

BY_NAME = {setting.name: setting for setting in SETTINGS}

# Names read as another setting, so existing .env files keep working.
ALIASES = {"FLASK_ENV": "APP_ENV"}
