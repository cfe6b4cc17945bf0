"""Documents generated from the settings schema are committed up to date."""

from pathlib import Path

from bastion.config.reference import (
    configuration_guide,
    env_example,
    settings_table,
    with_settings_table,
)
from bastion.config.schema import SETTINGS

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_is_current():
    """.env.example equals what `bastion config env-example` prints; run `make docs`."""
    committed = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert committed == env_example()


def test_readme_settings_table_is_current():
    """The README's settings table equals the one generated; run `make docs`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert with_settings_table(readme) == readme


def test_configuration_guide_is_current():
    """docs/configuration.md equals the generated guide; run `make docs`."""
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == configuration_guide()


def test_every_setting_is_documented():
    """Each declared setting appears in .env.example and in the README table."""
    example = env_example()
    table = settings_table()
    guide = configuration_guide()
    for setting in SETTINGS:
        assert f"### `{setting.name}`" in guide
        assert f"# {setting.name}=" in example
        assert f"| `{setting.name}` |" in table


def test_env_example_loads_cleanly(make_settings, tmp_path):
    """Uncommenting every line of .env.example gives valid settings (secrets aside)."""
    lines = [
        line.removeprefix("# ")
        for line in env_example().splitlines()
        if line.startswith("# ")
        and "=" in line
        and not line.endswith("=")
        and line.removeprefix("# ").split("=")[0].isupper()
    ]
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = make_settings(env_file=env_file, APP_ENV="development")
    assert settings.port == 8000
