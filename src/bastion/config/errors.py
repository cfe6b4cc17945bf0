"""The one error raised for bad settings, listing every problem at once."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One fault in the settings: which variable, where it came from, and why."""

    name: str
    origin: str
    message: str

    def __str__(self) -> str:
        # Paths and names can come from the environment; a line break in one must not
        # forge a second problem line.
        return _one_line(f"{self.name} ({self.origin}): {self.message}")


class ConfigError(Exception):
    """Raised when the settings cannot be used; ``problems`` lists every fault."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(self.report())

    def report(self) -> str:
        """Return one line per problem, ready to show to whoever starts the app."""
        return "\n".join(str(problem) for problem in self.problems)


def _one_line(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(
        character if character.isprintable() else repr(character)[1:-1]
        for character in text
    )
