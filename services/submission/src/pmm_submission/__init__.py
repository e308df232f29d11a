"""The PMM submission service.

Members, cycles, data entry, feeds and the submit workflow.
"""
