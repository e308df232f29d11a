"""The submission service's application; nothing connects at import."""

from fastapi import FastAPI

import pmm_submission
from pmm_kit.app import create_service_app
from pmm_submission.consumers import subscriptions
from pmm_submission.settings import SubmissionSettings


def create_app(settings: SubmissionSettings | None = None) -> FastAPI:
    settings = settings or SubmissionSettings()
    return create_service_app(
        settings,
        title="PMM submission service",
        description=(pmm_submission.__doc__ or "").strip(),
        subscriptions=subscriptions(),
    )
