"""Where raw setting values come from, one reader per source.

Each reader returns ``{name: RawValue}`` and a list of problems. The loader layers
them, later wins: built-in defaults, the profile's defaults, a ``.env`` file, the
process environment, then ``<NAME>_FILE`` secret files.
"""

import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv.parser import parse_stream

from bastion.config.errors import Problem
from bastion.config.files import (
    FileTooLargeError,
    NotRegularFileError,
    read_regular_file,
)

logger = logging.getLogger(__name__)

ENVIRONMENT = "environment"
FILE_SUFFIX = "_FILE"
# Docker and Kubernetes mount one secret per file; anything this big is a wrong path.
MAX_SECRET_FILE_BYTES = 64 * 1024
MAX_ENV_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class RawValue:
    """A setting's text as found, with a description of where it was found."""

    text: str
    origin: str


def read_environment(
    environ: Mapping[str, str], names: set[str]
) -> dict[str, RawValue]:
    """Return the ``names`` that are set in ``environ``."""
    return {
        name: RawValue(environ[name], ENVIRONMENT) for name in names if name in environ
    }


def read_dotenv(
    path: Path, names: set[str], required: bool = False
) -> tuple[dict[str, RawValue], list[Problem]]:
    """Read ``names`` from the ``.env`` file at ``path``.

    A missing file is no problem unless ``required``. Values are taken literally:
    ``$NAME`` is never expanded, because secrets often contain ``$``. Problems name
    the file and line, never the line's content, which may hold a secret.
    """
    content, problem = _read_env_file(path, required)
    if problem:
        return {}, [problem]

    return _parse_dotenv(content, path, names)


def _read_env_file(path: Path, required: bool) -> tuple[str, Problem | None]:
    try:
        data = read_regular_file(path, MAX_ENV_FILE_BYTES)
    except FileNotFoundError:
        if required:
            return "", _env_file_problem(
                path, "does not exist; check ENV_FILE or --env-file."
            )
        return "", None
    except IsADirectoryError:
        return "", _env_file_problem(path, "is a folder; name the .env file itself.")
    except NotRegularFileError:
        return "", _env_file_problem(path, "is not a regular file; name the .env file.")
    except FileTooLargeError:
        return "", _env_file_problem(
            path, "is larger than 1 MiB; name the .env file, not another file."
        )
    except OSError as error:
        reason = error.strerror or "cannot be read"
        return "", _env_file_problem(
            path, f"cannot be read ({reason}); check its permissions."
        )

    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return "", _env_file_problem(path, "is not UTF-8 text; save it as UTF-8.")


def _parse_dotenv(
    content: str, path: Path, names: set[str]
) -> tuple[dict[str, RawValue], list[Problem]]:
    values: dict[str, RawValue] = {}
    lines_seen: dict[str, int] = {}
    problems: list[Problem] = []
    for binding in parse_stream(io.StringIO(content)):
        line = _first_line_of_key(binding.original.string, binding.original.line)
        if binding.error or (binding.key is not None and binding.value is None):
            problems.append(
                Problem(
                    str(path),
                    f"line {line}",
                    "cannot be parsed; write it as NAME=value.",
                )
            )
            continue

        if binding.key is None:
            continue

        if binding.key in lines_seen:
            logger.warning(
                "%s sets %r twice, on line %d and line %d; the last one wins.",
                path,
                binding.key,
                lines_seen[binding.key],
                line,
            )
        lines_seen[binding.key] = line
        if binding.key in names:
            values[binding.key] = RawValue(binding.value, f"{path} line {line}")

    return values, problems


def _first_line_of_key(original: str, line: int) -> int:
    # python-dotenv counts from where its reader started, before blank lines.
    leading = original[: len(original) - len(original.lstrip())]
    return line + leading.count("\n")


def _env_file_problem(path: Path, message: str) -> Problem:
    return Problem(str(path), "env file", message)


def read_secret_files(
    layers: list[dict[str, RawValue]], names: set[str]
) -> tuple[dict[str, RawValue], list[Problem]]:
    """Read ``<NAME>_FILE`` for each of ``names`` from the given source ``layers``.

    Setting ``NAME`` and ``NAME_FILE`` in the same source is an error: nobody can
    tell which one was meant. Across sources the file, read last, wins.
    """
    values: dict[str, RawValue] = {}
    problems: list[Problem] = []
    for name in sorted(names):
        file_variable = name + FILE_SUFFIX
        found = [layer[file_variable] for layer in layers if file_variable in layer]
        if not found:
            continue

        pointer = found[-1]
        clash = [layer for layer in layers if name in layer and file_variable in layer]
        if clash:
            problems.append(
                Problem(
                    name,
                    clash[0][file_variable].origin,
                    f"is set both directly and through {file_variable}; keep only one.",
                )
            )
            continue

        overridden = [layer[name] for layer in layers if name in layer]
        if overridden:
            # The documented order puts files last, so this is allowed; but a stale
            # NAME_FILE line in .env beating an explicit NAME deserves a word.
            logger.warning(
                "%s from %s overrides %s from %s; secret files are read last.",
                file_variable,
                pointer.origin,
                name,
                overridden[-1].origin,
            )
        value, problem = _read_secret_file(file_variable, pointer)
        if problem:
            problems.append(problem)
        else:
            values[name] = value

    return values, problems


def _read_secret_file(
    file_variable: str, pointer: RawValue
) -> tuple[RawValue | None, Problem | None]:
    path = pointer.text

    def fail(message: str) -> tuple[None, Problem]:
        return None, Problem(file_variable, pointer.origin, f"{path!r} {message}")

    if not path:
        return None, Problem(
            file_variable, pointer.origin, "is empty; give the path of a file."
        )

    try:
        data = read_regular_file(path, MAX_SECRET_FILE_BYTES)
    except FileNotFoundError:
        return fail("does not exist; check the path.")
    except IsADirectoryError:
        return fail("is a folder; name the secret file itself.")
    except NotRegularFileError:
        return fail("is not a regular file; name the secret file itself.")
    except FileTooLargeError:
        return fail("is larger than 64 KiB; name the file that holds only the secret.")
    except OSError as error:
        return fail(
            f"cannot be read ({error.strerror or 'error'}); check its permissions."
        )

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return fail("is not UTF-8 text; save the secret as UTF-8.")

    # Editors and `echo` end files with a newline that is not part of the secret.
    text = text.removesuffix("\n").removesuffix("\r")
    return RawValue(text, f"file {path!r} from {file_variable}"), None
