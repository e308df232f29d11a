"""The PMM scoring service.

KPI computation and scores with lineage, computed by horizontally scalable workers.
"""
