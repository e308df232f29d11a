"""The reporting service's application; nothing connects at import."""

from fastapi import FastAPI

import pmm_reporting
from pmm_kit.app import create_service_app
from pmm_reporting.consumers import subscriptions
from pmm_reporting.settings import ReportingSettings


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    return create_service_app(
        settings,
        title="PMM reporting service",
        description=(pmm_reporting.__doc__ or "").strip(),
        subscriptions=subscriptions(),
    )
