"""The review service's application; nothing connects at import."""

from fastapi import FastAPI

import pmm_review
from pmm_kit.app import create_service_app
from pmm_review.consumers import subscriptions
from pmm_review.endpoints import queries, reviewers, reviews
from pmm_review.settings import ReviewSettings


def create_app(settings: ReviewSettings | None = None) -> FastAPI:
    settings = settings or ReviewSettings()
    return create_service_app(
        settings,
        title="PMM review service",
        description=(pmm_review.__doc__ or "").strip(),
        routers=[reviewers, reviews, queries],
        subscriptions=subscriptions(),
    )
