"""The PMM review service.

The peer review workflow: requests, reviewers, queries, corrections and verdicts.
"""
