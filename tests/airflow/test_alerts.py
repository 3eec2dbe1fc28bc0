"""Alerts reach a webhook and an SMTP server (local stubs), with no cpr in them."""

from __future__ import annotations

import email
import email.policy
from types import SimpleNamespace

import pytest
from alert_stubs import smtp_stub, webhook_stub

from kontrol.alerts import (
    deadline_message,
    failure_message,
    mask,
    send,
    target_from_connection,
)
from kontrol.errors import ConfigError


def failed_context() -> dict[str, object]:
    ti = SimpleNamespace(
        dag_id="kontrol_monthly",
        task_id="load_extract",
        map_index=3,
        run_id="scheduled__2026-10-01",
        try_number=1,
        log_url="http://127.0.0.1:8080/dags/kontrol_monthly/runs/x",
    )
    error = ConfigError("payments.parquet: column cpr: malformed value 0101901234 in row 7")
    return {"ti": ti, "params": {"as_of": "2026-10-31"}, "exception": error}


def test_failure_message_names_the_task_and_masks_cpr() -> None:
    subject, text = failure_message(failed_context())
    assert subject == "kontrol: kontrol_monthly.load_extract[3] failed (run scheduled__2026-10-01)"
    assert "ConfigError: payments.parquet: column cpr" in text
    assert "as_of: 2026-10-31" in text
    assert "0101901234" in text  # masking happens on sending, for every target
    assert "0101901234" not in mask(text) and "010190-1234" not in mask("x 010190-1234 y")
    assert mask("run 2026-10-31-a641a9770fbd, 12 cases") == "run 2026-10-31-a641a9770fbd, 12 cases"


def test_webhook_alert_is_posted_as_json() -> None:
    subject, text = failure_message(failed_context())
    with webhook_stub() as (url, received):
        host, port = url.removeprefix("http://").split(":")
        target = target_from_connection("http", host, int(port), "kontrol", "s3cret", "hooks/ops")
        send(target, subject, text, event="task_failed")
    [post] = received
    assert post["path"] == "/hooks/ops"
    assert post["headers"]["Authorization"].startswith("Basic ")
    assert post["json"]["event"] == "task_failed"
    assert post["json"]["subject"] == subject
    assert "load_extract[3]" in post["json"]["text"]
    assert "0101901234" not in post["json"]["text"]


def test_smtp_alert_is_mailed() -> None:
    context = {
        "dag_run": {"dag_id": "kontrol_monthly", "dag_run_id": "scheduled__2026-10-01"},
        "deadline": {"deadline_time": "2026-11-11T00:00:00+01:00"},
    }
    subject, text = deadline_message(context, 10)
    with smtp_stub() as (port, received):
        extra = {"to": "data@kommune.dk,vagt@kommune.dk", "from_email": "kontrol@kommune.dk"}
        target = target_from_connection("smtp", "127.0.0.1", port, extra=extra)
        send(target, subject, text, event="deadline_missed")
    [mail] = received
    assert len(mail["rcpt"]) == 2
    message = email.message_from_string(mail["data"], policy=email.policy.default)
    assert message["Subject"] == subject
    assert message["To"] == "data@kommune.dk, vagt@kommune.dk"
    assert "publish by day 10" in message.get_content()


def test_a_connection_that_is_no_alert_target_is_refused() -> None:
    with pytest.raises(ValueError, match="neither a webhook"):
        target_from_connection("postgres", "db", 5432)
    with pytest.raises(ValueError, match=r"extra\.to"):
        target_from_connection("smtp", "mail.kommune.dk", 25)
