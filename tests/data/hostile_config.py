"""Malformed and hostile configuration inputs, each one a reason to exit with status 2.

Every case names what the report must mention: the variable, or the ``.env`` line.
``{tmp}`` in a value stands for the case's own folder. ``CANARY`` and ``STRONG_KEY``
appear only where a secret belongs, so neither may ever be printed.
"""

from dataclasses import dataclass, field

CANARY = "hostile-canary-Vb8Lw4"
STRONG_KEY = "5f0c2ba7e31d49a8b6c0f2e4d8a1937c6b5e0d2f4a8c1e3b7d9f0a2c4e6b8d1f"
OTHER_KEY = "a3c5e7f9b1d2046813579bdf02468ace13579bdf2468ace0f1e2d3c4b5a69788"

FOLDER = "<folder>"
FIFO = "<fifo>"
LOOP = "<symlink loop>"


@dataclass(frozen=True)
class Hostile:
    """One bad configuration: what is in ``.env``, the environment and files."""

    id: str
    expect: str
    dotenv: bytes | None = None
    environ: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes | str] = field(default_factory=dict)


C = CANARY.encode()
PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": STRONG_KEY}

CORPUS = [
    # .env lines that are no assignment
    Hostile("dotenv-no-equals", "line 1", dotenv=b"SECRET_KEY " + C + b"\n"),
    Hostile("dotenv-colon", "line 2", dotenv=b"PORT=8001\nSECRET_KEY: " + C),
    Hostile("dotenv-open-double-quote", "line 1", dotenv=b'SECRET_KEY="' + C),
    Hostile("dotenv-open-single-quote", "line 1", dotenv=b"SECRET_KEY='" + C),
    Hostile("dotenv-text-after-quote", "line 1", dotenv=b'SECRET_KEY="x" ' + C),
    Hostile("dotenv-no-name", "line 1", dotenv=b"=" + C + b"\n"),
    Hostile("dotenv-open-quoted-name", "line 1", dotenv=b"'SECRET_KEY=" + C),
    Hostile("dotenv-bare-export", "line 2", dotenv=b"PORT=8001\nexport\n"),
    Hostile(
        "dotenv-bad-line-after-bom-and-crlf",
        "line 3",
        dotenv=b"\xef\xbb\xbfPORT=8001\r\n\r\nSECRET_KEY:" + C + b"\r\n",
    ),
    Hostile("dotenv-lone-cr-endings", "line 2", dotenv=b"PORT=8001\rDEBUG=maybe\r"),
    # .env files that are not text, or far too big
    Hostile("dotenv-invalid-utf-8", ".env", dotenv=b"SECRET_KEY=\xff\xfe" + C),
    Hostile("dotenv-utf-16", ".env", dotenv="PORT=8001\n".encode("utf-16")),
    Hostile("dotenv-binary", ".env", dotenv=bytes(range(256)) * 4),
    Hostile("dotenv-over-1-mib", ".env", dotenv=b"#" + b"x" * (1024 * 1024) + b"\n"),
    # wrong types and empty values
    Hostile("empty-port", "PORT", dotenv=b"PORT=\n"),
    Hostile("empty-quoted-secret", "SECRET_KEY", dotenv=b'SECRET_KEY=""\n'),
    Hostile("empty-app-env", "APP_ENV", environ={"APP_ENV": ""}),
    Hostile("port-word", "PORT", dotenv=b"PORT=eighty\n"),
    Hostile("port-huge", "PORT", dotenv=b"PORT=" + b"9" * 5000 + b"\n"),
    Hostile("port-arabic-digits", "PORT", dotenv="PORT=٨٠٠٠\n".encode()),
    Hostile("port-invalid-utf-8", "PORT", environ={"PORT": "80\udcff"}),
    Hostile("workers-fraction", "WORKERS", environ={"WORKERS": "2.5"}),
    Hostile("workers-negative", "WORKERS", environ={"WORKERS": "-1"}),
    Hostile(
        "lifetime-infinite",
        "SESSION_LIFETIME_HOURS",
        dotenv=b"SESSION_LIFETIME_HOURS=inf",
    ),
    Hostile("debug-maybe", "DEBUG", environ={"DEBUG": "maybe"}),
    Hostile("log-level-escape", "LOG_LEVEL", dotenv=b"LOG_LEVEL=\x1b[31mINFO\n"),
    Hostile("host-with-port", "HOST", environ={"HOST": "0.0.0.0:8000"}),
    Hostile("host-shell", "HOST", dotenv=b"HOST=$(reboot)\n"),
    Hostile(
        "memory-below-minimum",
        "PASSWORD_HASH_MEMORY_KIB",
        environ={"PASSWORD_HASH_MEMORY_KIB": "1024"},
    ),
    Hostile("path-with-nul", "DATABASE_PATH", dotenv=b"DATABASE_PATH=a\x00b.db\n"),
    Hostile("path-multi-line", "DATABASE_PATH", dotenv=b'DATABASE_PATH="a\nb"\n'),
    Hostile(
        "path-crlf-in-quotes", "INSTANCE_PATH", dotenv=b'INSTANCE_PATH="a\r\nb"\r\n'
    ),
    Hostile("path-huge", "DATABASE_PATH", environ={"DATABASE_PATH": "d/" * 5000}),
    # profiles and the rules of production
    Hostile("profile-unknown", "APP_ENV", dotenv=b"APP_ENV=prod\n"),
    Hostile(
        "profiles-disagree",
        "FLASK_ENV",
        environ={**PRODUCTION, "FLASK_ENV": "development"},
    ),
    Hostile("production-without-key", "SECRET_KEY", dotenv=b"APP_ENV=production\n"),
    Hostile(
        "production-placeholder-key",
        "SECRET_KEY",
        environ={
            "APP_ENV": "production",
            "SECRET_KEY": f"change-me-{CANARY}-0123456789",
        },
    ),
    Hostile("production-debug", "DEBUG", dotenv=b"DEBUG=true\n", environ=PRODUCTION),
    # hostile keys
    Hostile(
        "key-with-spaces", "SECRET_KEY", environ={"SECRET_KEY": f"{CANARY} {CANARY}"}
    ),
    Hostile(
        "key-non-ascii", "SECRET_KEY", environ={"SECRET_KEY": "ключ-" + CANARY * 2}
    ),
    Hostile(
        "key-invalid-utf-8", "SECRET_KEY", environ={"SECRET_KEY": CANARY + "\udcff"}
    ),
    Hostile("key-nul", "SECRET_KEY", dotenv=b"SECRET_KEY=" + C + b"\x00\n"),
    Hostile("key-escape-codes", "SECRET_KEY", dotenv=b"SECRET_KEY=\x1b[2J" + C + b"\n"),
    Hostile("key-too-long", "SECRET_KEY", environ={"SECRET_KEY": CANARY * 200}),
    # hostile SECRET_KEY_FALLBACKS
    Hostile(
        "fallbacks-empty-entry",
        "SECRET_KEY_FALLBACKS",
        environ={"SECRET_KEY_FALLBACKS": CANARY + ",,"},
    ),
    Hostile(
        "fallbacks-only-commas",
        "SECRET_KEY_FALLBACKS",
        environ={"SECRET_KEY_FALLBACKS": ",,,"},
    ),
    Hostile(
        "fallbacks-line-break",
        "SECRET_KEY_FALLBACKS",
        dotenv=b'SECRET_KEY_FALLBACKS="' + C + b"\n" + C + b'"\n',
    ),
    Hostile(
        "fallbacks-space-inside",
        "SECRET_KEY_FALLBACKS",
        environ={"SECRET_KEY_FALLBACKS": f"{CANARY} x"},
    ),
    Hostile(
        "fallbacks-huge-entry",
        "SECRET_KEY_FALLBACKS",
        environ={"SECRET_KEY_FALLBACKS": CANARY * 1000},
    ),
    Hostile(
        "fallbacks-repeat-the-key",
        "SECRET_KEY_FALLBACKS entry 1",
        environ={**PRODUCTION, "SECRET_KEY_FALLBACKS": STRONG_KEY},
    ),
    Hostile(
        "fallbacks-weak-in-production",
        "SECRET_KEY_FALLBACKS entry 2",
        environ={**PRODUCTION, "SECRET_KEY_FALLBACKS": f"{OTHER_KEY},{CANARY}"},
    ),
    Hostile(
        "fallbacks-thousand-weak",
        "SECRET_KEY_FALLBACKS entry 1000",
        environ={**PRODUCTION, "SECRET_KEY_FALLBACKS": ",".join([CANARY] * 1000)},
    ),
    # database URLs
    Hostile(
        "url-mysql",
        "DATABASE_URL",
        environ={"DATABASE_URL": f"mysql://u:{CANARY}@db/x"},
    ),
    Hostile(
        "url-http", "DATABASE_URL", environ={"DATABASE_URL": f"https://u:{CANARY}@db/x"}
    ),
    Hostile(
        "url-javascript",
        "DATABASE_URL",
        environ={"DATABASE_URL": f"javascript:alert('{CANARY}')"},
    ),
    Hostile("url-file", "DATABASE_URL", environ={"DATABASE_URL": "file:///etc/passwd"}),
    Hostile(
        "url-no-scheme", "DATABASE_URL", environ={"DATABASE_URL": f"u:{CANARY}@db/x"}
    ),
    Hostile(
        "url-unescaped-at",
        "DATABASE_URL",
        environ={"DATABASE_URL": f"postgresql://u:p@{CANARY}@db/x"},
    ),
    Hostile(
        "url-no-database",
        "DATABASE_URL",
        environ={"DATABASE_URL": f"postgresql://u:{CANARY}@db"},
    ),
    Hostile(
        "url-port-word",
        "DATABASE_URL",
        environ={"DATABASE_URL": f"postgresql://u:{CANARY}@db:port/x"},
    ),
    Hostile("url-blank", "DATABASE_URL", environ={"DATABASE_URL": "   "}),
    Hostile(
        "url-control-chars",
        "DATABASE_URL",
        dotenv=b"DATABASE_URL=postgresql://u:" + C + b"\x1b[2J@db/x\n",
    ),
    # ENV_FILE
    Hostile("env-file-empty", "ENV_FILE", environ={"ENV_FILE": ""}),
    Hostile(
        "env-file-missing", "missing.env", environ={"ENV_FILE": "{tmp}/missing.env"}
    ),
    Hostile(
        "env-file-folder",
        "folder",
        environ={"ENV_FILE": "{tmp}/folder"},
        files={"folder": FOLDER},
    ),
    # secret files
    Hostile(
        "file-missing", "SECRET_KEY_FILE", environ={"SECRET_KEY_FILE": "{tmp}/nope"}
    ),
    Hostile("file-empty-path", "SECRET_KEY_FILE", environ={"SECRET_KEY_FILE": ""}),
    Hostile(
        "file-folder",
        "SECRET_KEY_FILE",
        environ={"SECRET_KEY_FILE": "{tmp}/folder"},
        files={"folder": FOLDER},
    ),
    Hostile(
        "file-fifo",
        "SECRET_KEY_FILE",
        environ={"SECRET_KEY_FILE": "{tmp}/fifo"},
        files={"fifo": FIFO},
    ),
    Hostile(
        "file-symlink-loop",
        "SECRET_KEY_FILE",
        environ={"SECRET_KEY_FILE": "{tmp}/loop"},
        files={"loop": LOOP},
    ),
    Hostile(
        "file-dev-zero", "SECRET_KEY_FILE", environ={"SECRET_KEY_FILE": "/dev/zero"}
    ),
    Hostile(
        "file-dev-urandom",
        "SECRET_KEY_FILE",
        environ={"SECRET_KEY_FILE": "/dev/urandom"},
    ),
    Hostile(
        "file-dev-null", "SECRET_KEY_FILE", environ={"SECRET_KEY_FILE": "/dev/null"}
    ),
    Hostile(
        "file-over-64-kib",
        "SECRET_KEY_FILE",
        environ={"SECRET_KEY_FILE": "{tmp}/key"},
        files={"key": C * 4000},
    ),
    Hostile(
        "file-invalid-utf-8",
        "SECRET_KEY_FILE",
        environ={"SECRET_KEY_FILE": "{tmp}/key"},
        files={"key": C + b"\xc3\x28"},
    ),
    Hostile(
        "file-nul",
        "SECRET_KEY_FILE",
        environ={"SECRET_KEY_FILE": "{tmp}/key"},
        files={"key": C + b"\x00" + C},
    ),
    Hostile(
        "file-empty",
        "SECRET_KEY",
        environ={"SECRET_KEY_FILE": "{tmp}/key"},
        files={"key": b""},
    ),
    Hostile(
        "file-two-newlines",
        "SECRET_KEY",
        environ={"SECRET_KEY_FILE": "{tmp}/key"},
        files={"key": STRONG_KEY.encode() + b"\n\n"},
    ),
    Hostile(
        "file-bom",
        "SECRET_KEY",
        environ={"SECRET_KEY_FILE": "{tmp}/key"},
        files={"key": b"\xef\xbb\xbf" + STRONG_KEY.encode()},
    ),
    Hostile(
        "file-utf-16",
        "SECRET_KEY_FILE",
        environ={"SECRET_KEY_FILE": "{tmp}/key"},
        files={"key": STRONG_KEY.encode("utf-16")},
    ),
    Hostile(
        "file-and-value-in-environment",
        "SECRET_KEY",
        environ={"SECRET_KEY": CANARY, "SECRET_KEY_FILE": "{tmp}/key"},
        files={"key": STRONG_KEY.encode()},
    ),
    Hostile(
        "file-and-value-in-dotenv",
        "SECRET_KEY",
        dotenv=b"SECRET_KEY=" + C + b"\nSECRET_KEY_FILE={tmp}/key\n",
        files={"key": STRONG_KEY.encode()},
    ),
    Hostile(
        "file-named-in-dotenv-missing",
        "SECRET_KEY_FILE",
        dotenv=b"SECRET_KEY_FILE={tmp}/nope\n",
    ),
    Hostile(
        "file-url-bad-scheme",
        "DATABASE_URL",
        environ={"DATABASE_URL_FILE": "{tmp}/url"},
        files={"url": b"mysql://u:" + C + b"@db/x\n"},
    ),
    Hostile(
        "file-url-folder",
        "DATABASE_URL_FILE",
        environ={"DATABASE_URL_FILE": "{tmp}/folder"},
        files={"folder": FOLDER},
    ),
    Hostile(
        "file-port-word",
        "PORT",
        environ={"PORT_FILE": "{tmp}/port"},
        files={"port": b"eighty\n"},
    ),
]
