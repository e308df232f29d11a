"""The submission service's application; nothing connects at import."""

from fastapi import FastAPI

import pmm_submission
from pmm_kit.app import create_service_app
from pmm_submission.consumers import subscriptions
from pmm_submission.endpoints import routers
from pmm_submission.settings import SubmissionSettings


def create_app(settings: SubmissionSettings | None = None) -> FastAPI:
    settings = settings or SubmissionSettings()
    app = create_service_app(
        settings,
        title="PMM submission service",
        description=(pmm_submission.__doc__ or "").strip(),
        routers=routers(),
        subscriptions=subscriptions(),
    )
    app.state.feed_jobs = set()
    return app
