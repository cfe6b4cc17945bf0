"""Where raw setting values come from: the process environment and a ``.env`` file.

Each source returns ``{name: RawValue}``; the loader layers them, later wins:
built-in defaults, the profile's defaults, ``.env``, the environment.
"""

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv.parser import parse_stream

from bastion.config.errors import Problem

ENVIRONMENT = "environment"


@dataclass(frozen=True)
class RawValue:
    """A setting's text as found, with a description of where it was found."""

    text: str
    origin: str


def read_environment(environ: Mapping[str, str], names: set[str]) -> dict[str, RawValue]:
    """Return the declared ``names`` that are set in ``environ``."""
    return {
        name: RawValue(environ[name], ENVIRONMENT) for name in names if name in environ
    }


def read_dotenv(
    path: Path, names: set[str]
) -> tuple[dict[str, RawValue], list[Problem]]:
    """Read the declared ``names`` from the ``.env`` file at ``path``.

    A missing file is no problem. Values are taken literally: ``$NAME`` is never
    expanded, because secrets often contain ``$``. Problems name the file and line,
    never the line's content, which may hold a secret.
    """
    try:
        content = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}, []
    except UnicodeDecodeError:
        return {}, [_file_problem(path, "is not valid UTF-8 text; save it as UTF-8")]
    except OSError as error:
        reason = error.strerror or "cannot be read"
        return {}, [_file_problem(path, f"cannot be read ({reason}); check the path")]

    return _parse_dotenv(content, path, names)


def _parse_dotenv(
    content: str, path: Path, names: set[str]
) -> tuple[dict[str, RawValue], list[Problem]]:
    values: dict[str, RawValue] = {}
    problems: list[Problem] = []
    for binding in parse_stream(io.StringIO(content)):
        line = _first_line_of_key(binding.original.string, binding.original.line)
        if binding.error or (binding.key is not None and binding.value is None):
            problems.append(
                Problem(
                    str(path),
                    f"line {line}",
                    "cannot be parsed; write it as NAME=value",
                )
            )
            continue

        if binding.key in names:
            values[binding.key] = RawValue(binding.value, f"{path} line {line}")

    return values, problems


def _first_line_of_key(original: str, line: int) -> int:
    # python-dotenv counts from where its reader started, before blank lines.
    leading = original[: len(original) - len(original.lstrip())]
    return line + leading.count("\n")


def _file_problem(path: Path, message: str) -> Problem:
    return Problem(str(path), "env file", message)

