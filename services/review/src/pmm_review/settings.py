from pydantic import Field

from pmm_kit.settings import ServiceSettings

DEFAULT_PORT = 8003


class ReviewSettings(ServiceSettings):
    service: str = "review"
    schema_name: str = Field(default="review", validation_alias="PMM_REVIEW_SCHEMA")
    host: str = Field(default="127.0.0.1", validation_alias="PMM_REVIEW_HOST")
    port: int = Field(default=DEFAULT_PORT, validation_alias="PMM_REVIEW_PORT")
