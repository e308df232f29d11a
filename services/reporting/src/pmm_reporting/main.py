"""The reporting service's application; nothing connects at import."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

import pmm_reporting
from pmm_kit.app import create_service_app
from pmm_kit.db import async_database_url, create_session_factory
from pmm_reporting.benchmarks import BenchmarkCache
from pmm_reporting.consumers import subscriptions
from pmm_reporting.endpoints import router
from pmm_reporting.scorecards import ScorecardCache
from pmm_reporting.settings import ReportingSettings


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    app = create_service_app(
        settings,
        title="PMM reporting service",
        description=(pmm_reporting.__doc__ or "").strip(),
        routers=[router],
        subscriptions=subscriptions(),
    )
    app.state.benchmarks = BenchmarkCache(settings.suppression_rules)
    app.state.scorecards = ScorecardCache()
    app.router.lifespan_context = _with_read_engine(
        app.router.lifespan_context, settings
    )
    return app


def _with_read_engine(lifespan: Any, settings: ReportingSettings) -> Any:
    """Add an engine for reads to the service's lifespan.

    Reads go through their own pool without the pre-ping that the service's engine
    does on every checkout: a scorecard is one statement, and the ping would double
    its round trips. A broken pooled connection fails that one read, which the
    client may retry; commands keep the pinging engine.
    """

    @asynccontextmanager
    async def read_engine_lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(app):
            engine = create_async_engine(
                async_database_url(settings.database_url.get_secret_value()),
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_pool_size,
                pool_recycle=300,
                isolation_level="AUTOCOMMIT",
                connect_args={"server_settings": {"search_path": settings.schema_name}},
            )
            app.state.read_sessions = create_session_factory(engine)
            try:
                yield
            finally:
                await engine.dispose()

    return read_engine_lifespan
