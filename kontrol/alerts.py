"""Alerts to the data engineers: a failed task, or a month not published by its deadline.

The target is the Airflow Connection ``kontrol_alerts`` (:data:`ALERT_CONN_ID`):

* a **webhook**: connection type ``http`` or ``https``, e.g.
  ``AIRFLOW_CONN_KONTROL_ALERTS='https://chat.example.dk/hooks/kontrol'``
  (host, port and schema make the URL; ``extra`` may give ``url`` instead and
  ``headers``; login and password become HTTP basic auth). The message is
  POSTed as JSON ``{"text": ..., "subject": ..., "event": ...}``, which chat
  tools (Teams and Slack incoming webhooks, Mattermost) accept.
* **mail**: connection type ``smtp`` (host, port, login, password) with
  ``extra`` ``{"to": "a@x.dk,b@x.dk", "from_email": "kontrol@x.dk",
  "starttls": true}`` (``"ssl": true`` for SMTPS).

Without the Connection an alert is only logged (a warning), never raised:
a failing alert must not hide the failure it reports.

This module imports only the standard library, so the DAG file may name
:func:`deadline_missed` (the triggerer runs it) without importing the
pipeline's heavy dependencies. Messages carry ids, names, dates and the
error's first line, with anything that looks like a cpr number masked.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import smtplib
import ssl
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

log = logging.getLogger(__name__)

ALERT_CONN_ID = "kontrol_alerts"
WEBHOOK_TYPES = ("http", "https")
SMTP_TYPES = ("smtp", "email")
#: 10 digits, optionally DDMMYY-SSSS: masked in every alert.
_CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")
_MAX_ERROR_CHARS = 600


@dataclass(frozen=True)
class AlertTarget:
    """Where alerts go: a webhook URL or an SMTP server (from the Connection's fields)."""

    kind: str  # "webhook" or "smtp"
    host: str
    port: int | None = None
    login: str | None = None
    password: str | None = None
    url: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def target_from_connection(
    conn_type: str | None,
    host: str | None,
    port: int | None = None,
    login: str | None = None,
    password: str | None = None,
    schema: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> AlertTarget:
    """The alert target an Airflow Connection describes (its plain fields, not the object)."""
    kind = (conn_type or "").lower()
    extra = dict(extra or {})
    if kind in WEBHOOK_TYPES:
        url = extra.get("url")
        if not url:
            if not host:
                raise ValueError(f"Connection {ALERT_CONN_ID}: a webhook needs a host or extra.url")
            netloc = host if port is None else f"{host}:{port}"
            url = f"{kind}://{netloc}/{(schema or '').lstrip('/')}"
        return AlertTarget("webhook", host or "", port, login, password, str(url), extra)
    if kind in SMTP_TYPES:
        if not host or not extra.get("to"):
            raise ValueError(f"Connection {ALERT_CONN_ID}: SMTP needs a host and extra.to")
        return AlertTarget("smtp", host, port, login, password, None, extra)
    raise ValueError(
        f"Connection {ALERT_CONN_ID}: type {conn_type!r} is neither a webhook "
        f"({', '.join(WEBHOOK_TYPES)}) nor mail ({', '.join(SMTP_TYPES)})"
    )


def mask(text: str) -> str:
    """``text`` with anything shaped like a cpr number replaced."""
    return _CPR_LIKE.sub("[masked]", text)


def send(target: AlertTarget, subject: str, text: str, event: str, timeout: float = 15.0) -> None:
    """Deliver one alert (raises on a refused or failed delivery)."""
    subject, text = mask(subject), mask(text)
    if target.kind == "webhook":
        assert target.url is not None
        body = json.dumps({"subject": subject, "text": f"{subject}\n\n{text}", "event": event})
        headers = {"Content-Type": "application/json", **dict(target.extra.get("headers", {}))}
        if target.login or target.password:
            token = f"{target.login or ''}:{target.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(token).decode()
        request = urllib.request.Request(target.url, body.encode(), headers, method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
        return
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = str(target.extra.get("from_email") or target.login or "kontrol@localhost")
    message["To"] = str(target.extra["to"])
    message.set_content(text)
    use_ssl = bool(target.extra.get("ssl"))
    port = target.port or (465 if use_ssl else 25)
    smtp: smtplib.SMTP
    if use_ssl:
        smtp = smtplib.SMTP_SSL(target.host, port, timeout=timeout)
    else:
        smtp = smtplib.SMTP(target.host, port, timeout=timeout)
    with smtp:
        if not use_ssl and target.extra.get("starttls"):
            smtp.starttls(context=ssl.create_default_context())
        if target.login:
            smtp.login(target.login, target.password or "")
        smtp.send_message(message)


def _error_line(error: object) -> str:
    if error is None:
        return "(no exception recorded)"
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    first = text.strip().splitlines()[0] if text.strip() else text
    return first[:_MAX_ERROR_CHARS]


def failure_message(context: Mapping[str, Any]) -> tuple[str, str]:
    """Subject and text for a failed task, from an Airflow task context."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    run_id = getattr(ti, "run_id", None) or getattr(context.get("dag_run"), "run_id", "?")
    params = context.get("params") or {}
    task = task_id if map_index in (None, -1) else f"{task_id}[{map_index}]"
    subject = f"kontrol: {dag_id}.{task} failed (run {run_id})"
    lines = [
        f"DAG: {dag_id}",
        f"task: {task}, try {getattr(ti, 'try_number', '?')}",
        f"run: {run_id}",
        f"as_of: {params.get('as_of') or '(from the data interval)'}",
        f"error: {_error_line(context.get('exception'))}",
    ]
    log_url = getattr(ti, "log_url", None)
    if log_url:
        lines.append(f"log: {log_url}")
    lines.append("A data error leaves its diagnostics in out_dir/<as_of>/failed-run/.")
    return subject, "\n".join(lines)


def deadline_message(context: Mapping[str, Any], publish_by_day: object) -> tuple[str, str]:
    """Subject and text for a month that has not published by its deadline."""
    dag_run = dict(context.get("dag_run") or {})
    deadline = dict(context.get("deadline") or {})
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id") or "?"
    dag_id = dag_run.get("dag_id") or "kontrol_monthly"
    subject = f"kontrol: {dag_id} run {run_id} has not published by its deadline"
    lines = [
        f"DAG: {dag_id}",
        f"run: {run_id}",
        f"data interval: {dag_run.get('data_interval_start')} "
        f"to {dag_run.get('data_interval_end')}",
        f"state: {dag_run.get('state')}",
        f"deadline: {deadline.get('deadline_time')} (publish by day {publish_by_day})",
        "The month's case queue is not published yet: is the delivery late "
        "(see wait_for_delivery's log), or is the run blocked?",
    ]
    return subject, "\n".join(lines)


def _target(conn: Any) -> AlertTarget:
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    return target_from_connection(
        conn.conn_type, conn.host, conn.port, conn.login, conn.password, conn.schema, extra
    )


def notify_failure(context: Mapping[str, Any]) -> bool:
    """Send the failure alert of a task context. True if sent (a task's on_failure_callback)."""
    from airflow.sdk import Connection

    subject, text = failure_message(context)
    try:
        conn = Connection.get(ALERT_CONN_ID)
    except Exception:  # AirflowNotFoundException, or no way to reach the metadata DB
        log.warning("no Connection %s: alert not sent: %s", ALERT_CONN_ID, subject)
        return False
    send(_target(conn), subject, text, event="task_failed")
    log.info("alert sent: %s", subject)
    return True


async def deadline_missed(context: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
    """The DeadlineAlert callback (run by the triggerer): the month has not published in time."""
    import asyncio

    from airflow.sdk import Connection

    subject, text = deadline_message(context or {}, kwargs.get("publish_by_day", "?"))
    try:
        conn = await Connection.async_get(ALERT_CONN_ID)
    except Exception:
        log.warning("no Connection %s: alert not sent: %s", ALERT_CONN_ID, subject)
        return
    await asyncio.to_thread(send, _target(conn), subject, text, "deadline_missed")
    log.info("alert sent: %s", subject)
