"""The reporting service's errors, rendered as problem details."""

from pmm_kit.errors import ForbiddenError, NotFoundError, ProblemError


class ReportingError(ProblemError):
    slug = "reporting"
    title = "The report cannot be produced"


class CycleNotFoundError(NotFoundError):
    slug = "cycle-not-found"
    title = "No such cycle"


class ResultNotFoundError(NotFoundError):
    slug = "result-not-found"
    title = "No scored result for this member and cycle"


class ReportNotFoundError(NotFoundError):
    slug = "report-not-found"
    title = "No such published report"


class UnknownFrameworkError(ReportingError):
    status = 409
    slug = "unknown-framework"
    title = "The cycle's framework is not known to this service"


class UnknownKpiError(NotFoundError):
    slug = "kpi-not-found"
    title = "No such KPI in the cycle's framework"


class ViewForbiddenError(ForbiddenError):
    slug = "view-forbidden"
    title = "This view of the benchmarks is not the caller's to read"
