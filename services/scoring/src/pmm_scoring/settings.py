from pydantic import Field

from pmm_kit.settings import ServiceSettings

DEFAULT_PORT = 8002


class ScoringSettings(ServiceSettings):
    service: str = "scoring"
    schema_name: str = Field(default="scoring", validation_alias="PMM_SCORING_SCHEMA")
    host: str = Field(default="127.0.0.1", validation_alias="PMM_SCORING_HOST")
    port: int = Field(default=DEFAULT_PORT, validation_alias="PMM_SCORING_PORT")
    # Scores are computed by `pmm-scoring worker` processes, scaled on their own; the
    # API process only serves reads and relays its outbox.
    run_consumers: bool = Field(default=False, validation_alias="PMM_RUN_CONSUMERS")
    # How long a worker may hold a message before JetStream gives it to another one:
    # the time a crashed worker's messages wait before someone else computes them.
    ack_wait_seconds: float = Field(
        default=30.0, gt=0, validation_alias="PMM_SCORING_ACK_WAIT_SECONDS"
    )
    # A batch is computed without yielding the event loop: keep it short.
    batch_size: int = Field(default=20, gt=0, validation_alias="PMM_SCORING_BATCH_SIZE")
