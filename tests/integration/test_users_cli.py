"""`xsell users …` as a user runs it: passwords from stdin only, grants and roles, one-line errors."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.cli import XSELL, one_line_error
from tests.integration.api_support import PASSWORD, api_settings, login, seed, serving

from adapters.embedded.services import ServiceUrls


def _xsell(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | env
    return subprocess.run(
        [XSELL, *args], env=environment, input=stdin, capture_output=True, text=True, timeout=180
    )


async def test_users_commands(services: ServiceUrls, database_url: str, tmp_path: Path) -> None:
    await seed(database_url, per_org=3)
    env = {"DATABASE_URL": database_url, "REDIS_URL": services.redis_url, "XSELL_DATA_DIR": str(tmp_path)}
    added = _xsell(
        env,
        "users",
        "add",
        "Ana@Example.com",
        "--role",
        "sales",
        "--org",
        "emea",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert "user ana@example.com added (sales; orgs: emea)" in added.stdout
    assert PASSWORD not in added.stdout + added.stderr

    assert _xsell(env, "users", "grant", "ana@example.com", "apac").stdout.strip().endswith("apac, emea")
    assert _xsell(env, "users", "revoke", "ana@example.com", "emea").stdout.strip().endswith("apac")
    assert "is now analyst" in _xsell(env, "users", "set-role", "ana@example.com", "analyst").stdout
    listed = _xsell(env, "users", "list").stdout
    assert "ana@example.com" in listed and "analyst" in listed and "apac" in listed

    one_line_error(_xsell(env, "users", "grant", "ana@example.com", "nowhere"))
    one_line_error(_xsell(env, "users", "grant", "nobody@example.com", "apac"))
    short = _xsell(
        env, "users", "add", "b@example.com", "--role", "sales", "--password-stdin", stdin="short\n"
    )
    assert "12 to 256" in one_line_error(short)
    # No way to pass a password as an argument.
    assert (
        _xsell(env, "users", "add", "c@example.com", "--role", "sales", "--password", PASSWORD).returncode
        != 0
    )

    settings = api_settings(services, database_url, tmp_path)
    async with serving(settings) as http:
        tokens = await login(http, "ana@example.com")
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        items = (await http.get("/api/v1/accounts?limit=500", headers=headers)).json()["items"]
        assert {item["org_id"] for item in items} == {"apac"}
