"""`pmm-review`: serve the API, run the migrations."""

from pathlib import Path

from pmm_kit.cli import service_cli
from pmm_review.settings import ReviewSettings

cli = service_cli(
    name="review",
    settings=ReviewSettings,
    service_dir=Path(__file__).resolve().parents[2],
)


def main() -> None:
    cli()
