"""`xsell demo` (what `make run` starts): fake orgs synced and resolved, API serving them, clean stop."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from adapters.embedded.services import PID_FILE

XSELL = str(Path(sys.executable).parent / "xsell")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_demo_serves_synced_accounts_and_stops_everything(tmp_path: Path) -> None:
    port, dashboard_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["XSELL_DATA_DIR"] = str(tmp_path / "data")
    log = tmp_path / "demo.log"
    with log.open("w") as output:
        demo = subprocess.Popen(
            [
                XSELL,
                "demo",
                "--port",
                str(port),
                "--dashboard-port",
                str(dashboard_port),
                "--accounts",
                "300",
            ],
            env=env,
            stdout=output,
            stderr=output,
        )
    try:
        deadline = time.monotonic() + 300
        body: dict[str, object] = {}
        headers: dict[str, str] = {}
        while time.monotonic() < deadline:
            assert demo.poll() is None, log.read_text()[-3000:]
            try:
                if not headers:
                    # The summary prints the demo admin's login once the API is about to start.
                    found = re.search(r"Demo login\s+(\S+) / (\S+)", log.read_text())
                    if found is None:
                        time.sleep(0.5)
                        continue
                    tokens = httpx.post(
                        f"http://127.0.0.1:{port}/api/v1/auth/login",
                        json={"email": found[1], "password": found[2]},
                        timeout=10,
                    )
                    if tokens.status_code != 200:
                        time.sleep(0.5)
                        continue
                    headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
                url = f"http://127.0.0.1:{port}/api/v1/accounts?limit=500"
                response = httpx.get(url, headers=headers, timeout=3)
                if response.status_code == 200:
                    body = response.json()
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        items = body.get("items")
        assert isinstance(items, list) and len(items) >= 60, log.read_text()[-3000:]
        assert {item["org_id"] for item in items} == {"bu1", "bu2", "bu3"}
        text = log.read_text()
        assert "customers from" in text and "in several orgs" in text
        # The whole pipeline ran: a model was trained (quick profile) and every customer scored.
        assert "recommendations written for" in text, text[-3000:]
        assert f"Dashboard    http://127.0.0.1:{dashboard_port}/" in text, text[-3000:]
        assert "fake-bu1-pw" not in text  # the demo's own credentials never reach the output
        pids = json.loads((tmp_path / "data" / PID_FILE).read_text())
        children = [child.pid for child in psutil.Process(demo.pid).children(recursive=True)]
        assert len(children) >= 3  # worker, scheduler and dashboard (and their own processes)
        demo.send_signal(signal.SIGINT)
        demo.wait(60)
        deadline = time.monotonic() + 30
        watched = [pids["postgres"], pids["redis"], pids["redis_cache"], pids["watchdog"], *children]
        while any(_alive(pid) for pid in watched) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert [pid for pid in watched if _alive(pid)] == []
    finally:
        if demo.poll() is None:
            demo.kill()
