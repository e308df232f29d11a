"""Scorecards as served: JSON kept per reader audience (the member's values as that
reader reads them, and the benchmark cells it gets) until the figures move.

Invariant: a cached scorecard is keyed by the version of its cycle and the sum of the
versions of the earlier cycles (its trend), read before its facts. Versions only rise,
so a change to anything a scorecard shows makes a new key, and an entry can only hold
figures as new as or newer than its key.
"""

from collections import OrderedDict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_reporting import service
from pmm_reporting.audience import Audience, Reader
from pmm_reporting.benchmarks import BenchmarkCache
from pmm_reporting.errors import CycleNotFoundError

ScorecardKey = tuple[str, str, Audience, Audience, int, int]

_VERSIONS = sa.text(
    """
    SELECT c.version,
           (SELECT coalesce(sum(p.version), 0) FROM cycle p
             WHERE p.reporting_year < c.reporting_year) AS earlier
      FROM cycle c
     WHERE c.cycle_id = :cycle_id
    """
)


class ScorecardCache:
    def __init__(self, capacity: int = 512) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[ScorecardKey, bytes] = OrderedDict()

    def get(self, key: ScorecardKey) -> bytes | None:
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    def put(self, key: ScorecardKey, body: bytes) -> None:
        self._entries[key] = body
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)


async def scorecard_json(
    session: AsyncSession,
    benchmarks: BenchmarkCache,
    scorecards: ScorecardCache,
    *,
    cycle_id: str,
    member: str,
    reader: Reader,
) -> bytes:
    versions = (await session.execute(_VERSIONS, {"cycle_id": cycle_id})).first()
    if versions is None:
        raise CycleNotFoundError(f"no cycle '{cycle_id}'")

    audience = reader.audience_for(member, cycle_id)
    key = (cycle_id, member, audience, reader.cells_audience, *versions)
    cached = scorecards.get(key)
    if cached is not None:
        return cached

    scorecard = await service.member_scorecard(
        session, benchmarks, cycle_id, member, reader
    )
    body = scorecard.model_dump_json().encode()
    scorecards.put(key, body)
    return body
