"""A worker's exporter in multiprocess mode serves the sum of what all of its processes counted."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

_COUNT = textwrap.dedent(
    """
    from adapters.observability.metrics import PrometheusSyncMetrics, xsell_metrics
    xsell_metrics().job_retries.inc()
    PrometheusSyncMetrics().records_synced("emea", "Account", 5)
    xsell_metrics().job_duration.labels(actor="sync_org").observe(2.0)
    """
)

_SERVE = textwrap.dedent(
    """
    import sys, urllib.request
    from pathlib import Path
    from adapters.observability.metrics import serve_metrics, use_multiprocess_dir
    port = int(sys.argv[1])
    assert serve_metrics("127.0.0.1", port)
    print(urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode())
    """
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(code: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_exporter_merges_the_counts_of_two_processes(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    stale = folder / "counter_99999.db"
    folder.mkdir()
    stale.write_bytes(b"left from an earlier start")
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root}"}
    # The worker empties the folder at start, before anything counts, and its processes inherit it.
    start = "import sys, pathlib, adapters.observability.metrics as m; m.use_multiprocess_dir(pathlib.Path(sys.argv[1]))"  # noqa: E501
    _run(start, env, str(folder))
    assert not stale.exists()
    env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    _run(_COUNT, env)
    _run(_COUNT, env)
    text = _run(_SERVE, env, str(_free_port()))
    assert "xsell_job_retries_total 2.0" in text
    assert 'xsell_sync_records_total{object="Account",org="emea"} 10.0' in text
    assert 'xsell_job_duration_seconds_count{actor="sync_org"} 2.0' in text
