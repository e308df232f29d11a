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
