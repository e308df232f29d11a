"""pmm_local."""
