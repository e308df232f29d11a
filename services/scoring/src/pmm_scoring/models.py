"""The scoring service's tables (in its own schema; see `pmm_kit.tables`)."""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from pmm_kit.tables import NAMING_CONVENTION


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
