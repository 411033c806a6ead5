"""Settings come from the environment; a bad value fails with a message that names the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.settings import Settings, SettingsError


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.data_dir == Path(".xsell")
    assert settings.api_port == 8000


def test_values_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u:p@db:5432/xsell",
            "REDIS_URL": "redis://cache:6379/0",
            "XSELL_API_PORT": "9001",
            "XSELL_LOG_LEVEL": "debug",
            "XSELL_DATA_DIR": "/var/lib/xsell",
        }
    )
    assert settings.database_url == "postgresql://u:p@db:5432/xsell"
    assert settings.api_port == 9001
    assert settings.log_level == "DEBUG"
    assert settings.data_dir == Path("/var/lib/xsell")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("XSELL_API_PORT", "eighty"),
        ("XSELL_API_PORT", "70000"),
        ("XSELL_DB_POOL_SIZE", "0"),
        ("XSELL_LOG_LEVEL", "LOUD"),
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://cache"),
        ("XSELL_DATA_DIR", "  "),
    ],
)
def test_bad_value_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    message = str(caught.value)
    assert message.startswith(variable)
    assert "\n" not in message


def test_secret_parts_of_urls_never_appear_in_errors() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"REDIS_URL": "http://user:hunter2-secret@cache"})
    assert "hunter2" not in str(caught.value)


def test_every_variable_is_documented() -> None:
    rows = Settings.documentation()
    names = [name for name, _, _ in rows]
    assert {"DATABASE_URL", "REDIS_URL", "XSELL_DATA_DIR", "XSELL_API_PORT"} <= set(names)
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    for name in names:
        assert f"`{name}`" in readme, f"{name} is not in the README's configuration table"


def test_services_print_spans_by_default_and_one_shot_commands_do_not() -> None:
    default = Settings.from_env({})
    assert [default.traces_mode(p) for p in ("api", "worker", "scheduler")] == ["console"] * 3
    assert [default.traces_mode(p) for p in ("demo", "sync", "train")] == ["off"] * 3


def test_an_otlp_collector_replaces_the_console_and_xsell_traces_overrides_both() -> None:
    collector = Settings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert collector.traces_mode("api") == "off"
    assert Settings.from_env({"XSELL_TRACES": "off"}).traces_mode("worker") == "off"
    assert Settings.from_env({"XSELL_TRACES": "console"}).traces_mode("demo") == "console"


def test_cors_origins_are_scheme_and_host_only() -> None:
    parsed = Settings.from_env({"XSELL_CORS_ORIGINS": "https://sales.example.com/, http://localhost:5006"})
    assert parsed.cors_origins == ("https://sales.example.com", "http://localhost:5006")
    for bad in ("*", "sales.example.com", "https://x.example/path", "ftp://x.example"):
        with pytest.raises(SettingsError, match="XSELL_CORS_ORIGINS"):
            Settings.from_env({"XSELL_CORS_ORIGINS": bad})
