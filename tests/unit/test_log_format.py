"""Log records: readable or JSON, one line each, and secrets masked everywhere."""

import json
import logging
import secrets
import subprocess
import sys
import time

import pytest

from bastion.logs import redaction
from bastion.logs.formats import JSONFormatter, UTCFormatter
from bastion.logs.redaction import MASK, Redactor, for_log, masked_for_log, quoted

KEY = secrets.token_hex(32)


def _record(
    message: str, *args, exc_info=None, stack_info=None, **extra
) -> logging.LogRecord:
    record = logging.LogRecord(
        "bastion.test",
        logging.WARNING,
        __file__,
        1,
        message,
        args,
        exc_info,
        None,
        stack_info,
    )
    for name, value in extra.items():
        setattr(record, name, value)
    return record


@pytest.mark.parametrize("formatter_class", [UTCFormatter, JSONFormatter])
def test_secret_is_masked_in_message_args_extras_and_tracebacks(formatter_class):
    """A secret value never survives formatting, wherever it sits in the record."""
    formatter = formatter_class(Redactor([KEY]))
    try:
        raise RuntimeError(f"failed with {KEY}")
    except RuntimeError:
        import sys

        exc_info = sys.exc_info()
    record = _record(f"key {KEY} and %s", KEY, exc_info=exc_info, detail=KEY)

    written = formatter.format(record)

    assert KEY not in written
    assert MASK in written


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("postgresql://app:s3cr3t-pw@db/x", "s3cr3t-pw"),
        ("redis://:redis-pass-9@cache:6379/0", "redis-pass-9"),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("cookie=session=eyJhbGciOi; remember=zz", "eyJhbGciOi"),
        ("card 4111 1111 1111 1111 used", "4111 1111 1111 1111"),
        ("card 4012888888881881", "4012888888881881"),
        # A digit added before or after must not hide the card inside.
        ("card 4111111111111111 5", "4111111111111111"),
        ("7 4111111111111111", "4111111111111111"),
        ("card 4111.1111.1111.1111", "4111.1111.1111.1111"),
        ("card 4111_1111_1111_1111", "4111_1111_1111_1111"),
        ("card 4111/1111/1111/1111", "4111/1111/1111/1111"),
        ("card 4111\u00a01111\u00a01111\u00a01111", "4111\u00a01111"),
        ("card 4111  1111  1111  1111", "4111  1111"),
    ],
)
def test_credentials_and_card_numbers_are_masked(text, hidden):
    """URL passwords, credential headers and Luhn-valid card numbers are masked."""
    assert hidden not in Redactor()(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "redis://:p@ssw0rdSECRET@cache:6379/0",
            "redis://:***@cache:6379/0",
        ),
        (
            "postgresql://app:p@ss:w@rd@db.internal/app?sslmode=require",
            "postgresql://app:***@db.internal/app?sslmode=require",
        ),
        ("to redis://:pw@cache and a@b", "to redis://:***@cache and a@b"),
        ("ftp://bob@corp:pw-9@files/in", "ftp://bob@corp:***@files/in"),
        # No password, or an @ past the end of the authority: nothing to mask.
        ("https://bob@host:8443/a@b", "https://bob@host:8443/a@b"),
        ("https://host:8443/?to=a@b", "https://host:8443/?to=a@b"),
    ],
    ids=["redis", "postgresql", "mail-after", "user-with-at", "port", "query"],
)
def test_a_url_password_is_masked_up_to_the_last_at_sign(text, expected):
    """A password may hold an @: like a URL parser, the mask runs to the last @
    before the host, so none of the password shows and the host still does."""
    assert Redactor()(text) == expected


def test_typed_backslashes_are_doubled_so_escapes_cannot_be_faked():
    """A typed \\x0a or \\" reads differently from an escaped line break or quote."""
    assert for_log("a\\x0a") == "a\\\\x0a"
    assert for_log("a\n") == "a\\x0a"
    assert for_log('x\\"') == 'x\\\\"'


def test_times_are_not_mistaken_for_cards():
    """Colons keep a date and time apart, so timestamps in messages survive."""
    assert Redactor()("at 2026-12-03 16:55:39 ok") == "at 2026-12-03 16:55:39 ok"


def test_numbers_that_fail_luhn_are_kept():
    """Ordinary long numbers, such as ids, are not mistaken for cards."""
    assert (
        Redactor()("order 1234567812345678 shipped") == "order 1234567812345678 shipped"
    )


def test_json_records_are_one_object_per_line_with_documented_keys():
    """JSON output parses, keeps its keys, and a line break stays inside the string."""
    written = JSONFormatter().format(_record("two\nlines %s", "x", request_id="r1"))

    assert "\n" not in written
    entry = json.loads(written)
    assert set(entry) == {"time", "level", "logger", "process", "message", "request_id"}
    assert entry["message"] == "two\nlines x"
    assert entry["time"].endswith("Z")


def test_text_records_are_one_line():
    """Readable output escapes line breaks so no one can forge a second record."""
    written = UTCFormatter().format(_record("user %s", "eve\r\nINFO forged"))

    assert "\n" not in written
    assert "\\x0d\\x0a" in written


def test_production_logs_json_by_default(make_settings):
    """LOG_FORMAT is json in production and text elsewhere."""
    production = make_settings(APP_ENV="production", SECRET_KEY=secrets.token_hex(32))

    assert production.log_format == "json"
    assert make_settings().log_format == "text"


def test_app_logs_never_show_its_own_secret_key(make_app, capfd):
    """An app's key, logged by mistake in a message or a traceback, is masked."""
    key = secrets.token_hex(32)
    make_app(SECRET_KEY=key)
    logger = logging.getLogger("bastion.test")
    logger.warning("oops %s", key)
    try:
        raise ValueError(key)
    except ValueError:
        logger.exception("failed")

    captured = capfd.readouterr()
    assert key not in captured.err + captured.out
    assert MASK in captured.err


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("redis://:hunter2pass@127.0.0.1:6379/0", "hunter2pass"),
        ("rediss://worker:p@ss-w0rd@cache:6380/1", "p@ss-w0rd"),
        ("redis://:hunter%402pass@cache/0", "hunter@2pass"),
        ("redis://cache:6379/0?password=hunter2pass", "hunter2pass"),
    ],
    ids=["plain", "at-sign", "percent-encoded", "query"],
)
def test_the_rate_limit_storage_password_is_never_logged(make_settings, url, password):
    """The Redis password in RATELIMIT_STORAGE_URL is masked as a value, wherever it
    shows and however it is spelled in the URL."""
    from bastion.extension import secret_values

    settings = make_settings(RATELIMIT_STORAGE_URL=url)

    assert password in secret_values(settings)
    assert password not in Redactor(secret_values(settings))(f"AUTH {password} failed")


def test_timestamps_are_right_across_seconds():
    """The per-second cache never gives one second's text to another."""
    from bastion.logs.formats import _utc_timestamp

    stamps = []
    for created in (0.5, 0.75, 1.25, 86_400.0, 0.5):
        record = logging.makeLogRecord(
            {"created": created, "msecs": created % 1 * 1000}
        )
        stamps.append(_utc_timestamp(record))

    assert stamps == [
        "1970-01-01T00:00:00.500Z",
        "1970-01-01T00:00:00.750Z",
        "1970-01-01T00:00:01.250Z",
        "1970-01-02T00:00:00.000Z",
        "1970-01-01T00:00:00.500Z",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "form {'password': 'hunter2-secret', 'username': 'bob'}",
        "posted new_password=hunter2-secret&next=/",
        "cookies session=hunter2-secret; theme=dark",
        "cookie __Host-remember=hunter2-secret",
        "field csrf_token: hunter2-secret",
    ],
)
def test_values_named_as_secrets_are_masked(text):
    """A password, token or session cookie logged by name is masked, its name kept."""
    masked = Redactor()(text)

    assert "hunter2-secret" not in masked
    assert MASK in masked


@pytest.mark.parametrize(
    "text",
    [
        "oauth client_secret=xyzzy-42&grant_type=client_credentials",
        "app {'client_secret': 'xyzzy-42', 'client_id': 'web'}",
        "hook X-Webhook-Secret: xyzzy-42",
        "mysql pwd=xyzzy-42",
        "key passphrase: xyzzy-42",
        "loaded {'private_key': 'xyzzy-42'}",
        "headers [('X-Private-Key', 'xyzzy-42')]",
    ],
)
def test_client_secrets_passphrases_and_private_keys_are_masked(text):
    """Values named client_secret, pwd, passphrase or private_key are masked. These
    values hold no word the quick first check looks for: the name must pass it."""
    masked = Redactor()(text)

    assert "xyzzy-42" not in masked
    assert MASK in masked


def test_field_names_that_merely_mention_sessions_are_kept():
    """session_id, remember_until and a reason of wrong_password are not secrets."""
    text = "session_id=5 remember_until=2026 reason=wrong_password"

    assert Redactor()(text) == text


def test_json_extra_fields_named_as_secrets_are_masked():
    """An extra field called password is masked in JSON whatever its value."""
    record = logging.makeLogRecord({"msg": "form", "password": "pw", "count": 3})

    entry = json.loads(JSONFormatter(Redactor()).format(record))

    assert (entry["password"], entry["count"]) == (MASK, 3)


@pytest.mark.parametrize("name", ["client_secret", "pwd", "passphrase", "private_key"])
def test_json_extra_fields_with_newer_secret_names_are_masked(name):
    """Client secrets, passphrases and private keys are masked as JSON fields too."""
    record = logging.makeLogRecord({"msg": "m", "oauth": {name: "hunter2-secret"}})

    entry = json.loads(JSONFormatter(Redactor()).format(record))

    assert entry["oauth"] == {name: MASK}


def test_a_path_ending_in_a_secret_name_is_not_a_secret():
    """instance/secret_key":["SECRET_KEY"] is a file path and a list of names."""
    text = 'sources={"development key file /srv/instance/secret_key":["SECRET_KEY"]}'

    assert Redactor()(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "form: {'password': 'correct horse battery staple', 'username': 'bob'}",
        'settings password = "correct horse battery staple" loaded',
        "{'csrf_token': \"it's correct horse battery staple\"}",
    ],
)
def test_a_quoted_secret_is_masked_whole_spaces_and_all(text):
    """Passwords may have spaces: a quoted value is masked up to its closing quote."""
    masked = Redactor()(text)

    assert "horse" not in masked
    assert "staple" not in masked
    assert MASK in masked


def test_secrets_nested_in_json_extras_are_masked():
    """A form or headers passed whole as an extra field keep no secret of theirs."""
    record = logging.makeLogRecord(
        {
            "msg": "posted",
            "form": {"password": "hunter2hunter2", "csrf_token": "IjAbC.tok", "n": 1},
            "headers": {"Authorization": "Bearer abc.def", "HTTP_COOKIE": "a=b"},
        }
    )

    written = JSONFormatter(Redactor()).format(record)
    entry = json.loads(written)

    assert entry["form"] == {"password": MASK, "csrf_token": MASK, "n": 1}
    assert entry["headers"] == {"Authorization": MASK, "HTTP_COOKIE": MASK}
    for secret in ("hunter2hunter2", "IjAbC.tok", "abc.def"):
        assert secret not in written


def test_credential_headers_in_a_dict_are_masked_in_text():
    """repr() of a headers dict puts a quote between the name and the colon."""
    masked = Redactor()("{'Authorization': 'Bearer abc.def', 'Accept': '*/*'}")

    assert "abc.def" not in masked


@pytest.mark.parametrize(
    "text",
    [
        '{"password": "a\\"b c d"}',
        "{'password': 'it\\'s \"my secret\" here'}",
        "ImmutableMultiDict([('username', 'bob'), ('password', 'my secret here')])",
        "{'X-Api-Key': 'my secret here'}",
        "{'x-auth-token': 'my secret here'}",
        "[('Authorization', 'Bearer my secret here'), ('Accept', '*/*')]",
    ],
    ids=[
        "escaped-quote",
        "repr-escaped",
        "multidict",
        "api-key",
        "auth-token",
        "pairs",
    ],
)
def test_secrets_in_the_shapes_python_prints_them_are_masked(text):
    """Escaped quotes, (name, value) pairs and X-Api-Key style names are masked too."""
    masked = Redactor()(text)

    assert "secret" not in masked
    assert MASK in masked


def test_a_card_with_wide_spaces_is_masked():
    """Thin, en and ideographic spaces between the groups still make one card."""
    for space in ("\u2002", "\u2009", "\u3000"):
        assert "1111" not in Redactor()(f"card 4111{space}1111{space}1111{space}1111")


def test_name_value_pairs_in_json_lists_are_masked():
    """A list of headers, as (name, value) tuples, keeps no credential in JSON; a
    list of two names is left whole."""
    record = logging.makeLogRecord(
        {
            "msg": "h",
            "headers": [("Authorization", "Bearer abc.def"), ("Accept", "*/*")],
            "names": ["SECRET_KEY", "DEBUG"],
        }
    )

    entry = json.loads(JSONFormatter(Redactor()).format(record))

    assert entry["headers"] == [["Authorization", MASK], ["Accept", "*/*"]]
    assert entry["names"] == ["SECRET_KEY", "DEBUG"]


ENVIRON = {
    "REQUEST_METHOD": "POST",
    "PATH_INFO": "/sign-in",
    "HTTP_AUTHORIZATION": "Basic YWxpY2U6UzNjcmV0UGFzcw==",
    "HTTP_COOKIE": "__Host-sid=TOPSECRET",
    "HTTP_PROXY_AUTHORIZATION": "Bearer PROXYTOKEN123",
    "HTTP_ACCEPT": "text/html",
}
ENVIRON_SECRETS = ("YWxpY2U6UzNjcmV0UGFzcw==", "TOPSECRET", "PROXYTOKEN123")


@pytest.mark.parametrize("formatter_class", [UTCFormatter, JSONFormatter])
def test_a_logged_wsgi_environ_keeps_no_credential(formatter_class):
    """HTTP_AUTHORIZATION, HTTP_COOKIE and HTTP_PROXY_AUTHORIZATION are masked in an
    environ's repr; the fields around them stay readable."""
    record = _record("Unexpected request: %s", ENVIRON)

    written = formatter_class(Redactor()).format(record)

    for secret in ENVIRON_SECRETS:
        assert secret not in written
    assert "'PATH_INFO': '/sign-in'" in written
    assert "'HTTP_ACCEPT': 'text/html'" in written


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (str(list(ENVIRON.items())), "('HTTP_ACCEPT', 'text/html')"),
        (
            "\n".join(f"{name}: {value}" for name, value in ENVIRON.items()),
            "HTTP_ACCEPT: text/html",
        ),
        # A bare value may hold spaces (Basic ...), so it is masked to the line's end.
        (
            " ".join(f"{name}={value}" for name, value in ENVIRON.items()),
            "PATH_INFO=/sign-in HTTP_AUTHORIZATION=[REDACTED]",
        ),
    ],
    ids=["pairs", "lines", "one-line"],
)
def test_wsgi_credential_names_are_masked_as_pairs_and_text(text, kept):
    """The environ's spelling of the credential headers is masked in (name, value)
    pairs and in name: value or name=value text."""
    masked = Redactor()(text)

    for secret in ENVIRON_SECRETS:
        assert secret not in masked
    assert kept in masked


def test_prose_about_cookies_and_authorization_is_kept():
    """A header name without a : or = after it is a word, not a credential."""
    text = "see the cookie policy; authorization failed for HTTP_COOKIE users"

    assert Redactor()(text) == text


@pytest.mark.parametrize("formatter_class", [UTCFormatter, JSONFormatter])
def test_a_request_id_of_digits_is_never_masked(formatter_class):
    """The request id is ours or a trusted proxy's; a Luhn-valid one stays readable."""
    record = _record("served", request_id="4111111111111111")

    written = formatter_class(Redactor()).format(record)

    assert "4111111111111111" in written


@pytest.mark.parametrize(
    "text",
    [
        "password" * 8000,
        "a" * 64000 + "://",
        "authorization" * 5000,
        "x-" * 32000 + "token",
        "a://:" * 12800,
    ],
    ids=["password", "scheme", "authorization", "token", "url-password"],
)
def test_masking_a_long_crafted_text_takes_linear_time(text):
    """64 kB built to make the patterns backtrack is masked in well under a second.

    Quadratic patterns took about a second for 16 kB, so 16 seconds for this; linear
    ones take a few milliseconds. The bound leaves a hundredfold margin for a slow
    machine.
    """
    started = time.perf_counter()
    Redactor([KEY])(text)

    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "text",
    [
        'sources={"environment":["APP_ENV","SECRET_KEY","TRUSTED_HOSTS","LOG_ACCESS"]}',
        "fields ['password', 'token', 'session'] are checked",
        "2026-12-03T19:46:25.114Z request 3f2a9c1e-77aa-4b1c-9d0e-5a6b7c8d9e0f",
        "client 2001:db8:85a3::8a2e:370:7334 user_id=42",
    ],
    ids=["setting-names", "list-of-names", "time-and-id", "ipv6"],
)
def test_ordinary_values_are_kept(text):
    """Lists of names are not (name, value) pairs; times, ids and addresses stay."""
    assert Redactor()(text) == text


@pytest.mark.parametrize(
    "message",
    [
        "card 4111\t1111\t1111\t1111",
        "card 4111\u00a01111\u00a01111\u00a01111",
        "card 4111\u30001111\u30001111\u30001111",
        "cfg password:\n    hunter2-1111-leak",
    ],
    ids=["tab", "nbsp", "ideographic-space", "value-after-line-break"],
)
def test_text_masks_before_it_escapes(message):
    """Escaping first turned the separators into \\x09 and \\xa0 and hid the card."""
    written = UTCFormatter(Redactor()).format(_record(message))

    assert "1111" not in written
    assert "\n" not in written


def test_json_masks_keys_too():
    """A dict key can hold a secret: a URL with a password, or the key itself."""
    record = logging.makeLogRecord(
        {"msg": "m", "hosts": {"postgresql://u:KeyPw10x@db/d": 1, KEY: 2}}
    )

    written = JSONFormatter(Redactor([KEY])).format(record)

    assert "KeyPw10x" not in written
    assert KEY not in written


def test_json_survives_self_reference_nan_and_line_separators():
    """An extra that refers to itself is cut, not a RecursionError out of the log
    call; NaN becomes text; U+2028 is escaped, so the record stays one line."""
    looped: list = []
    looped.append(looped)
    record = logging.makeLogRecord(
        {"msg": "a\u2028b\u0085c", "looped": looped, "ratio": float("nan")}
    )

    line = JSONFormatter(Redactor()).format(record)

    assert len(line.splitlines()) == 1
    entry = json.loads(line, parse_constant=_refuse_constant)
    assert entry["message"] == "a\u2028b\u0085c"
    assert entry["ratio"] == "nan"
    assert "[nested too deep]" in json.dumps(entry["looped"])


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def test_json_keeps_the_stack_and_a_cached_traceback_masked():
    """stack_info and an exc_text cached by another handler are written, masked."""
    record = _record(f"see {KEY}", stack_info=f"Stack (most recent call last): {KEY}")
    record.exc_text = f"Traceback: RuntimeError({KEY})"

    entry = json.loads(JSONFormatter(Redactor([KEY])).format(record))

    assert entry["stack"].startswith("Stack") and KEY not in entry["stack"]
    assert entry["exception"].startswith("Traceback") and KEY not in entry["exception"]


def test_a_record_that_fails_to_format_is_reported_without_its_arguments():
    """logging's own error report prints the message and arguments as they are; ours
    names the record's place only. Run in a fresh process: pytest's own handlers
    would report the failure their way."""
    code = (
        "import logging; from bastion.logs.setup import configure_logging; "
        "configure_logging('INFO', 'json'); "
        "logging.getLogger('bastion.test').info('password=%s %s', 'hunter2-leak-77')"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )

    assert "hunter2-leak-77" not in result.stderr
    assert "--- Logging error: TypeError in a record of bastion.test" in result.stderr


def test_a_secret_behind_text_that_masks_shorter_is_still_masked(monkeypatch):
    """Masking only the first 400 characters let a key cut at the 400th, and so not
    found, slide into the kept 200 once the text before it shrank to [REDACTED]."""
    monkeypatch.setattr(redaction, "_current", Redactor([KEY]))
    typed = "password=" + "a" * (400 - 10 - len(KEY) // 2) + " " + KEY

    written = masked_for_log(typed)

    assert KEY[:16] not in written
    assert written.startswith("password=[REDACTED] ")


def test_a_value_too_long_to_check_is_left_out():
    """Beyond 4096 characters a value is not searched, so it is not written either."""
    assert masked_for_log("a" * 5000) == (
        "[5000 characters, too long to check for secrets; left out]"
    )


@pytest.mark.parametrize("value", ["x' y", "a\\b", 'say "hi"', "k=v", ""])
def test_values_a_parser_could_split_are_quoted(value):
    """Spaces, either quote, backslashes and = make a value quoted."""
    assert quoted(value).startswith('"')
