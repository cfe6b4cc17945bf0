"""A Flask app that is not Bastion's own adopts the toolkit in a few lines."""

import re
import secrets

from flask import Flask, render_template_string
from flask_wtf import FlaskForm

from bastion import Bastion

FORM_PAGE = '<form method="post">{{ form.hidden_tag() }}</form>'


def _third_party_app(settings) -> Flask:
    app = Flask("third_party")

    @app.route("/", methods=["GET", "POST"])
    def index():
        form = FlaskForm()
        if form.validate_on_submit():
            return "accepted"
        return render_template_string(FORM_PAGE, form=form)

    Bastion(app, settings=settings)
    return app


def test_bastion_applies_key_and_cookie_flags(make_settings):
    """Bastion(app) sets the secret key and safe cookie flags from the settings."""
    key = secrets.token_hex(32)
    app = _third_party_app(make_settings(APP_ENV="production", SECRET_KEY=key))

    assert app.config["SECRET_KEY"] == key
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.debug is False
    assert app.extensions["bastion"].settings.profile == "production"


def test_bastion_turns_on_csrf(make_settings):
    """A POST to the third-party app needs the CSRF token from its form."""
    client = _third_party_app(make_settings()).test_client()

    assert client.post("/").status_code == 400
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/", data={"csrf_token": token})
    assert response.get_data(as_text=True) == "accepted"


def test_unbound_extension_binds_later(make_settings):
    """Bastion() can be created first and bound with init_app, as extensions allow."""
    extension = Bastion()
    app = Flask("late")
    extension.init_app(app, make_settings(APP_ENV="development", SECRET_KEY="x" * 40))

    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.extensions["bastion"] is extension


def test_toolkit_does_not_import_the_app():
    """bastion.config, bastion.security and bastion.logs never import bastion.app."""
    import subprocess
    import sys

    code = (
        "import sys, bastion.config, bastion.security.cookies, bastion.logs.setup, "
        "bastion.extension; print('bastion.app' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_bastion_adds_its_commands_to_flask_cli(make_settings, tmp_path):
    """`flask bastion config check` works in an app that adopted the toolkit."""
    app = _third_party_app(make_settings())
    env_file = tmp_path / "third.env"
    env_file.write_text("APP_ENV=testing\nPORT=8123\n", encoding="utf-8")
    runner = app.test_cli_runner()
    # The settings these commands read must come from the file, not from this shell.
    clean = {"APP_ENV": None, "FLASK_ENV": None, "PORT": None, "ENV_FILE": None}

    shown = runner.invoke(
        args=["bastion", "--env-file", str(env_file), "config", "show"], env=clean
    )
    assert shown.exit_code == 0, shown.output
    assert f"PORT=8123  # {env_file} line 2" in shown.output

    env_file.write_text("APP_ENV=testing\nPORT=0\n", encoding="utf-8")
    checked = runner.invoke(
        args=["bastion", "--env-file", str(env_file), "config", "check"], env=clean
    )
    assert checked.exit_code == 2
    assert "PORT" in checked.output


def test_flask_login_remember_cookies_survive_rotation_when_opted_in(make_settings):
    """init_remember_rotation lets a Flask-Login app accept old-key remember cookies."""
    from flask_login import LoginManager, UserMixin, current_user
    from flask_login.utils import encode_cookie

    from bastion.security.remember import init_remember_rotation

    old_key, new_key = secrets.token_hex(32), secrets.token_hex(32)
    app = Flask("remembering")
    manager = LoginManager(app)

    class Member(UserMixin):
        id = "7"

    manager.user_loader(lambda user_id: Member() if user_id == "7" else None)

    @app.route("/who")
    def who():
        return current_user.get_id() or "nobody"

    Bastion(
        app, settings=make_settings(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=old_key)
    )
    init_remember_rotation(app)
    with app.test_request_context():
        signed_with_old_key = encode_cookie("7", key=old_key)
        signed_with_stranger = encode_cookie("7", key=secrets.token_hex(32))

    client = app.test_client()
    client.set_cookie("remember", signed_with_old_key)
    assert client.get("/who").text == "7"

    stranger = app.test_client()
    stranger.set_cookie("remember", signed_with_stranger)
    assert stranger.get("/who").text == "nobody"


def test_another_apps_logger_writes_json_with_request_ids(make_settings, capfd):
    """Bastion(app) routes the app's own logger through its handler, once per record."""
    import json

    app = Flask("third_party_shop")
    Bastion(app, make_settings(LOG_FORMAT="json"))

    @app.route("/buy")
    def buy():
        app.logger.warning("bought with card 4111 1111 1111 1111")
        return "ok"

    capfd.readouterr()
    response = app.test_client().get("/buy?coupon=secret-coupon")

    lines = capfd.readouterr().err.splitlines()
    records = [json.loads(line) for line in lines]
    [bought] = [r for r in records if r["logger"] == "third_party_shop"]
    [access] = [r for r in records if r["logger"] == "bastion.access"]
    assert bought["message"] == "bought with card [REDACTED]"
    assert (
        bought["request_id"] == access["request_id"] == response.headers["X-Request-ID"]
    )
    assert access["path"] == "/buy"
    assert "secret-coupon" not in "\n".join(lines)
