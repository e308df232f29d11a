"""The scoring service's application; nothing connects at import."""

from fastapi import FastAPI

import pmm_scoring
from pmm_kit.app import create_service_app
from pmm_scoring.consumers import subscriptions
from pmm_scoring.endpoints import router
from pmm_scoring.settings import ScoringSettings


def create_app(settings: ScoringSettings | None = None) -> FastAPI:
    settings = settings or ScoringSettings()
    return create_service_app(
        settings,
        title="PMM scoring service",
        description=(pmm_scoring.__doc__ or "").strip(),
        routers=[router],
        subscriptions=subscriptions(settings),
    )
