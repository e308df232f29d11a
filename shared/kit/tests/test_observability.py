"""Logs: what an operator reads to see what the services do."""

import json
import logging

import pytest
import structlog

from pmm_kit.logs import bind_correlation_id, clear_context, configure_logging
from pmm_kit.settings import Environment, LogFormat, ServiceSettings


def test_production_logs_are_json_lines_with_the_correlation_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(service="kit-test", log_format=LogFormat.JSON, level="info")
    clear_context()
    bind_correlation_id("corr-log-1")

    structlog.get_logger("test").info("submission.submitted", submission_id="s-1")
    logging.getLogger("uvicorn.error").warning("from the standard library")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["event"] == "submission.submitted"
    assert lines[0]["submission_id"] == "s-1"
    assert lines[0]["correlation_id"] == "corr-log-1"
    assert lines[0]["service"] == "kit-test"
    assert lines[0]["level"] == "info"
    assert lines[1]["event"] == "from the standard library"
    assert lines[1]["correlation_id"] == "corr-log-1"


def test_secrets_never_reach_a_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(service="kit-test", log_format=LogFormat.JSON, level="info")

    structlog.get_logger("test").info(
        "auth.checked", token="eyJ.secret", password="hunter2", member="BRA"
    )

    [line] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert line["token"] == "[redacted]"
    assert line["password"] == "[redacted]"
    assert line["member"] == "BRA"


def test_the_log_format_follows_the_environment() -> None:
    assert ServiceSettings().resolved_log_format is LogFormat.CONSOLE
    production = ServiceSettings(environment=Environment.PRODUCTION)
    assert production.resolved_log_format is LogFormat.JSON
