"""The event contracts between the services, one module per producer.

Importing this package registers every contract, which is what the AsyncAPI document
and the consumers' decoding rely on.
"""

from pmm_kit.contracts import reporting, review, scoring, submission

__all__ = ["reporting", "review", "scoring", "submission"]
