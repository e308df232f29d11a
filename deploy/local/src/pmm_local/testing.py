"""A pytest plugin: real PostgreSQL and NATS for the test session.

Embedded servers in a temporary folder, unless `DATABASE_URL` and `NATS_URL` name
running ones (the URL must be an administrator's: the tests create roles and schemas).
Loaded by the workspace's root `conftest.py`.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from pmm_local.stack import Infrastructure


@pytest.fixture(scope="session")
def infrastructure(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Infrastructure]:
    home = tmp_path_factory.mktemp("pmm-home")
    started = Infrastructure(Path(home)).start()
    try:
        yield started
    finally:
        started.stop()
