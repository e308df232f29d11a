"""The submission service's errors; each carries its HTTP status and stable type."""

from pmm_kit.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    PreconditionFailedError,
    ProblemError,
)


class SubmissionError(ProblemError):
    """Base of every error the submission service raises."""


class UnknownError(SubmissionError, NotFoundError):
    """A member, cycle, submission or key that does not exist (or is not yours)."""


class StateError(SubmissionError, ConflictError):
    slug = "invalid-state"
    title = "The object's state does not allow this"


class StaleError(SubmissionError, PreconditionFailedError):
    """The caller's `If-Match` names a version that is no longer current."""


class NotAllowedError(SubmissionError, ForbiddenError):
    pass


class InvalidInputError(SubmissionError):
    """A value breaks a rule; the problem names the field and the rule."""

    status = 422
    slug = "invalid-input"
    title = "A value breaks a rule"


class IncompleteError(SubmissionError):
    status = 422
    slug = "submission-incomplete"
    title = "The submission is incomplete or has blocking findings"


class FeedRejectedError(SubmissionError):
    status = 422
    slug = "feed-rejected"
    title = "The feed has rejected rows; nothing was applied"


class IdempotencyConflictError(SubmissionError, ConflictError):
    slug = "idempotency-key-reused"
    title = "The Idempotency-Key was used with another request"


class FeedFailedError(SubmissionError, ConflictError):
    slug = "feed-failed"
    title = "The feed sent with this Idempotency-Key failed; nothing was applied"


class FeedTooLargeError(SubmissionError, PayloadTooLargeError):
    pass


class UnsupportedFeedError(SubmissionError):
    status = 415
    slug = "unsupported-feed"
    title = "The feed's format is not one this service reads"


class UnreadableFeedError(SubmissionError):
    """A feed body no reader can take apart (a JSON document nested beyond any
    parser's depth); nothing in it can be checked row by row."""

    status = 400
    slug = "unreadable-feed"
    title = "The feed cannot be read"
