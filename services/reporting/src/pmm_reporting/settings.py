from decimal import Decimal

from pydantic import Field

from pmm_kit.settings import ServiceSettings
from pmm_reporting.suppression import SuppressionRules

DEFAULT_PORT = 8004


class ReportingSettings(ServiceSettings):
    service: str = "reporting"
    schema_name: str = Field(
        default="reporting", validation_alias="PMM_REPORTING_SCHEMA"
    )
    host: str = Field(default="127.0.0.1", validation_alias="PMM_REPORTING_HOST")
    port: int = Field(default=DEFAULT_PORT, validation_alias="PMM_REPORTING_PORT")
    min_contributors: int = Field(
        default=3,
        ge=2,
        validation_alias="PMM_REPORTING_MIN_CONTRIBUTORS",
        description="k: a benchmark cell needs at least this many members.",
    )
    dominance_share: Decimal = Field(
        default=Decimal("0.6"),
        gt=0,
        le=1,
        validation_alias="PMM_REPORTING_DOMINANCE_SHARE",
        description=(
            "A cell of an additive KPI (a count) is suppressed when one member's "
            "value is more than this share of the cell's total."
        ),
    )

    @property
    def suppression_rules(self) -> SuppressionRules:
        return SuppressionRules(
            min_contributors=self.min_contributors,
            dominance_share=self.dominance_share,
        )
