"""pmm_kit."""
