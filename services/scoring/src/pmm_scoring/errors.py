"""The scoring service's errors, rendered as problem details by the kit."""

from pmm_kit.errors import NotFoundError, ProblemError


class ScoringError(ProblemError):
    """Base of the scoring service's errors."""


class CalculationNotFoundError(ScoringError, NotFoundError):
    status = 404
    slug = "calculation-not-found"
    title = "No such calculation"


class UnknownCodeError(ScoringError, NotFoundError):
    status = 404
    slug = "unknown-code"
    title = "No such KPI, expected outcome or dimension in the framework"


class UnknownFrameworkError(ScoringError):
    status = 422
    slug = "unknown-framework"
    title = "This service does not know the framework version"


class InvalidInputsError(ScoringError):
    status = 422
    slug = "invalid-inputs"
    title = "The values cannot be scored"
