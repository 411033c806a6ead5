"""`xsell api` with no tracing configured prints its spans to stdout, one JSON line each (the default for
the long-running processes), with the trace ids its log lines carry."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
from tests.cli import XSELL

from adapters.embedded.services import ServiceUrls


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-2000:]
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the API did not answer at {url}: {log.read_text()[-2000:]}")


def test_the_api_prints_one_json_line_per_span_when_nothing_else_is_configured(
    services: ServiceUrls, database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    unset = ("XSELL_TRACES", "OTEL_EXPORTER_OTLP_ENDPOINT")
    env = {k: v for k, v in os.environ.items() if k not in unset} | {
        "DATABASE_URL": database_url,
        "REDIS_URL": services.redis_url,
        "XSELL_DATA_DIR": str(tmp_path / "data"),
        # The session's tests share one Redis and all sign in from 127.0.0.1: with the default limit of
        # 10 a minute, this sign-in got 429 whenever other tests had just signed in (test order).
        "XSELL_LOGIN_RATE_LIMIT_PER_MINUTE": "100000",
    }
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen([XSELL, "api", "--port", str(port)], env=env, stdout=out, stderr=err)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/ready", process, stderr)
        answer = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/login",
            json={"email": "nobody@example.com", "password": "not-a-password"},
            timeout=10,
        )
        assert answer.status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    spans = [json.loads(line) for line in stdout.read_text().splitlines() if line.strip()]
    names = {span["name"] for span in spans}
    assert any(name.startswith("POST ") for name in names), names
    assert "postgresql SELECT" in names, names
    login = next(span for span in spans if span["name"].startswith("POST "))
    same_trace = [s for s in spans if s["context"]["trace_id"] == login["context"]["trace_id"]]
    assert len(same_trace) >= 2, "the request's use case and SQL spans share its trace"
    assert "not-a-password" not in stdout.read_text() + stderr.read_text()
