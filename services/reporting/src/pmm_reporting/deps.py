"""Request dependencies: the reader and the benchmark cache."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmm_kit.auth import Principal, Role, optional_principal
from pmm_reporting import repository
from pmm_reporting.audience import Reader
from pmm_reporting.benchmarks import BenchmarkCache
from pmm_reporting.scorecards import ScorecardCache


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for a read: autocommit, so no BEGIN and ROLLBACK round trips; each
    statement reads its own consistent snapshot, and the scorecard is one statement."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.read_sessions
    async with sessions() as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(read_session)]


async def reader(
    principal: Annotated[Principal | None, Depends(optional_principal)],
    session: ReadSessionDep,
) -> Reader:
    if principal is None or principal.role is not Role.REVIEWER:
        return Reader(principal)

    reviewing = await repository.reviewed_by(session, principal.subject)
    return Reader(principal, reviewing=reviewing)


async def benchmark_cache(request: Request) -> BenchmarkCache:
    cache: BenchmarkCache = request.app.state.benchmarks
    return cache


async def scorecard_cache(request: Request) -> ScorecardCache:
    cache: ScorecardCache = request.app.state.scorecards
    return cache


ReaderDep = Annotated[Reader, Depends(reader)]
BenchmarksDep = Annotated[BenchmarkCache, Depends(benchmark_cache)]
ScorecardsDep = Annotated[ScorecardCache, Depends(scorecard_cache)]
