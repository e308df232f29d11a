"""Every test session gets real PostgreSQL and NATS servers (see pmm_local.testing)."""

pytest_plugins = ["pmm_local.testing"]
