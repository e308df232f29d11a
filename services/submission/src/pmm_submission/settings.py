from pydantic import Field

from pmm_kit.settings import ServiceSettings

DEFAULT_PORT = 8001


class SubmissionSettings(ServiceSettings):
    service: str = "submission"
    schema_name: str = Field(
        default="submission", validation_alias="PMM_SUBMISSION_SCHEMA"
    )
    host: str = Field(default="127.0.0.1", validation_alias="PMM_SUBMISSION_HOST")
    port: int = Field(default=DEFAULT_PORT, validation_alias="PMM_SUBMISSION_PORT")
    feed_max_rows: int = Field(
        default=250_000, gt=0, validation_alias="PMM_FEED_MAX_ROWS"
    )
    feed_job_rows: int = Field(
        default=20_000,
        gt=0,
        validation_alias="PMM_FEED_JOB_ROWS",
        description="A feed with more rows runs as a job polled by id.",
    )
    feed_diff_limit: int = Field(
        default=1_000, gt=0, validation_alias="PMM_FEED_DIFF_LIMIT"
    )
    feed_rejected_limit: int = Field(
        default=1_000,
        gt=0,
        validation_alias="PMM_FEED_REJECTED_LIMIT",
        description="At most this many rejected rows in a feed's answer.",
    )
    feed_findings_submissions: int = Field(
        default=20,
        gt=0,
        validation_alias="PMM_FEED_FINDINGS_SUBMISSIONS",
        description="Findings are computed for a feed touching at most this many.",
    )
