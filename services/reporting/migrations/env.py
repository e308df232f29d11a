from pmm_kit.migrations import run_migrations
from pmm_kit.tables import messaging_metadata
from pmm_reporting.models import Base

run_migrations([Base.metadata, messaging_metadata])
