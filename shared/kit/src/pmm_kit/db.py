"""Database access bound to one service's schema, and the unit of work.

A unit of work is one transaction: nothing it wrote is kept unless the use case calls
`commit()`; leaving it without a commit rolls everything back. Events are written to
the outbox inside the same transaction, so state and events are kept or lost together.
"""

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

OUTBOX_WRITTEN = "pmm.outbox_written"


def async_database_url(url: str) -> str:
    """The SQLAlchemy URL for asyncpg, from a plain `postgresql://` one."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres", "postgresql+psycopg"}:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, *, schema: str, pool_size: int = 10) -> AsyncEngine:
    """An engine whose every connection sees only `schema` on its search path."""
    return create_async_engine(
        async_database_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"search_path": schema}},
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class UnitOfWork:
    """One transaction for one command; commits only when told to."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        on_outbox_committed: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._on_outbox_committed = on_outbox_committed
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is used outside its `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session = self.session
        self._session = None
        await session.rollback()
        await session.close()

    async def commit(self) -> None:
        session = self.session
        wrote_events = session.info.pop(OUTBOX_WRITTEN, False)
        await session.commit()
        if wrote_events and self._on_outbox_committed is not None:
            self._on_outbox_committed()

    async def rollback(self) -> None:
        self.session.info.pop(OUTBOX_WRITTEN, None)
        await self.session.rollback()
