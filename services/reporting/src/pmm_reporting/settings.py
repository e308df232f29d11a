from pydantic import Field

from pmm_kit.settings import ServiceSettings

DEFAULT_PORT = 8004


class ReportingSettings(ServiceSettings):
    service: str = "reporting"
    schema_name: str = Field(
        default="reporting", validation_alias="PMM_REPORTING_SCHEMA"
    )
    host: str = Field(default="127.0.0.1", validation_alias="PMM_REPORTING_HOST")
    port: int = Field(default=DEFAULT_PORT, validation_alias="PMM_REPORTING_PORT")
