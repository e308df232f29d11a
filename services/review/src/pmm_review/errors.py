"""The review service's errors; each carries its HTTP status and a stable type."""

from pmm_kit.errors import ProblemError


class ReviewError(ProblemError):
    """Base of every error the review service raises."""

    status = 400
    slug = "review"
    title = "The review request cannot be carried out"


class ReviewNotFoundError(ReviewError):
    status = 404
    slug = "not-found"
    title = "Not found"


class NotAllowedError(ReviewError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class StaleVersionError(ReviewError):
    status = 412
    slug = "precondition-failed"
    title = "The resource changed since it was read"


class VersionRequiredError(ReviewError):
    status = 428
    slug = "precondition-required"
    title = "The version you saw is required (If-Match)"


class TransitionError(ReviewError):
    status = 409
    slug = "transition-not-allowed"
    title = "The transition is not allowed in the current state"


class ConflictOfInterestError(ReviewError):
    status = 409
    slug = "conflict-of-interest"
    title = "The reviewer may not review this member"


class ReviewerAssignedError(ReviewError):
    status = 409
    slug = "reviewer-assigned"
    title = "The reviewer is assigned to reviews in progress"


class OpenQueriesError(ReviewError):
    status = 409
    slug = "open-queries"
    title = "The review has queries that are not settled"


class InvalidReviewInputError(ReviewError):
    status = 422
    slug = "invalid-review-input"
    title = "The request names something the review does not know"


class CorrectionPendingError(ReviewError):
    status = 409
    slug = "correction-pending"
    title = "A correction still awaits its corrected revision"


class SubmissionNotSubmittedError(ReviewError):
    status = 409
    slug = "submission-not-submitted"
    title = "The submission is not in the submitted state"
