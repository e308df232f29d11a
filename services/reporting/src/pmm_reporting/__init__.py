"""The PMM reporting service.

Scorecards, disclosure-aware benchmarks, published reports and exports.
"""
