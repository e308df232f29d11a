"""The errors the methodology library raises.

Evaluation never raises: a formula that cannot be computed gives a `NotComputable`
result. These errors are for files and expressions that cannot be read at all, and for
asking about a code that is not there.
"""

from dataclasses import dataclass


class MethodologyError(Exception):
    """Base of every error raised by pmm_methodology."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a framework file, at a path such as `kpis[12].formula`."""

    path: str
    message: str

    def __str__(self) -> str:
        if not self.path:
            return self.message
        return f"{self.path}: {self.message}"


class FrameworkError(MethodologyError):
    """A framework file was refused; `problems` lists every reason found."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"framework refused, {count} {noun}:\n{lines}")


class ExpressionSyntaxError(MethodologyError):
    """An expression could not be parsed; `position` counts characters from 1."""

    def __init__(self, message: str, *, position: int, text: str) -> None:
        self.reason = message
        self.position = position
        self.text = text
        super().__init__(f"{message} at character {position}")


class UnknownCodeError(MethodologyError, LookupError):
    """A KPI, expected outcome or dimension code is not in the assessment."""
