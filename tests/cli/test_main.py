"""The `roomtemp` command as users run it: the console script, in its own process."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from roomtemp import __version__
from roomtemp.cli.main import parser, settings_from, shared_metrics_folder
from roomtemp.settings import Settings
from roomtemp.storage.migrations import migrations_for
from tests.blackbox.server import create_token, roomtemp, running_server
from tests.network import free_port


def version_should_print_the_package_version() -> None:
    assert roomtemp("--version").stdout.strip() == f"roomtemp {__version__}"


def python_dash_m_should_run_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "roomtemp", "--help"], capture_output=True, text=True, check=True
    )
    assert "serve" in result.stdout
    assert "migrate" in result.stdout


def importing_should_not_read_the_environment_or_connect() -> None:
    broken = {
        **os.environ,
        "ROOMTEMP_PORT": "not a port",
        "ROOMTEMP_DATABASE_URL": "postgresql://nowhere.invalid/x",
    }
    code = "import roomtemp.cli.main, roomtemp.http.app, roomtemp.storage"
    subprocess.run([sys.executable, "-c", code], env=broken, check=True, timeout=30)


def a_flag_should_override_a_secrets_file_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "url").write_text("postgresql://db/roomtemp")
    monkeypatch.setenv("ROOMTEMP_DATABASE_URL_FILE", str(tmp_path / "url"))
    assert settings_from(parser().parse_args(["migrate"]))[0].database_url.startswith("postgres")
    args = parser().parse_args(["migrate", "--database-url", "memory://"])
    assert settings_from(args)[0].database_url == "memory://"


def flags_should_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOMTEMP_PORT", "9000")
    monkeypatch.setenv("ROOMTEMP_HOST", "0.0.0.0")
    settings, flags = settings_from(parser().parse_args(["serve", "--port", "9100"]))
    assert (settings.port, settings.host) == (9100, "0.0.0.0")
    assert flags == {"port": 9100}


def serve_on_sqlite_should_create_and_migrate_the_database_by_itself(tmp_path: Path) -> None:
    database = tmp_path / "new" / "folder" / "roomtemp.sqlite3"
    with running_server(f"sqlite:///{database}") as server:
        assert httpx.post(f"{server.url}/measurements/hall", json={"v": 290.0}).status_code == 201
    assert database.exists()


def serve_on_postgres_should_refuse_a_schema_that_is_behind(postgres_url: str) -> None:
    result = roomtemp("serve", "--port", str(free_port()), "--database-url", postgres_url)
    assert result.returncode == 1
    assert "schema is behind" in result.stderr
    assert "roomtemp migrate" in result.stderr


def serve_should_say_so_when_the_database_cannot_be_reached() -> None:
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    result = roomtemp(
        "serve",
        "--port",
        str(free_port()),
        "--database-url",
        closed,
        env={"ROOMTEMP_DB_TIMEOUT": "2"},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("roomtemp serve: PostgreSQL is unavailable")
    assert "Traceback" not in result.stderr


def migrate_should_report_what_it_applied(postgres_url: str) -> None:
    first = roomtemp("migrate", "--database-url", postgres_url)
    assert first.returncode == 0
    names = ", ".join(migration.name for migration in migrations_for("postgres"))
    assert first.stdout.strip() == f"applied: {names}"
    assert (
        roomtemp("migrate", "--database-url", postgres_url).stdout.strip()
        == "the schema is up to date"
    )


def an_unsupported_database_url_should_be_a_clear_error() -> None:
    result = roomtemp("migrate", "--database-url", "mysql://localhost/x")
    assert result.returncode != 0
    assert "unsupported database URL" in result.stderr
    assert "Traceback" not in result.stderr


def several_workers_should_share_a_new_metrics_folder_removed_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with shared_metrics_folder(2, None):
        folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        assert folder.is_dir()
        assert not any(folder.iterdir())
    assert not folder.exists()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def one_worker_should_need_no_metrics_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with shared_metrics_folder(1, None):
        assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def an_operators_metrics_folder_should_be_used_as_it_is(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    given = Settings().metrics_dir  # read through Settings, under prometheus-client's name
    assert given == str(tmp_path)
    with shared_metrics_folder(4, given):
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
    assert tmp_path.is_dir()


def token_list_should_show_names_scopes_and_ids_but_never_a_token(sqlite_url: str) -> None:
    token = create_token(sqlite_url, "sensor-hall", "write")
    create_token(sqlite_url, "dashboard", "read,write")
    listed = roomtemp("token", "list", "--database-url", sqlite_url)
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["NAME", "SCOPES", "CREATED", "ID"]
    assert lines[1].split()[:2] == ["sensor-hall", "write"]
    assert lines[2].split()[:3] == ["dashboard", "read", "write"]
    token_id = token.split("_")[1]
    assert lines[1].split()[-1] == token_id  # the public part
    assert token.removeprefix(f"rt_{token_id}_") not in listed.stdout


def token_commands_should_refuse_memory_urls_and_bad_scopes_in_one_line(sqlite_url: str) -> None:
    memory = roomtemp("token", "list", "--database-url", "memory://")
    assert memory.returncode == 1
    assert "ROOMTEMP_ADMIN_TOKEN" in memory.stderr
    typo = roomtemp(
        "token", "create", "--scope", "wrtie", "--name", "x", "--database-url", sqlite_url
    )
    assert typo.returncode == 1
    assert "unknown scope 'wrtie'" in typo.stderr
    assert "Traceback" not in memory.stderr + typo.stderr


def a_second_token_of_a_name_and_revoking_an_unknown_one_should_fail(sqlite_url: str) -> None:
    create_token(sqlite_url, "sensor-hall", "write")
    again = roomtemp(
        "token", "create", "--scope", "write", "--name", "sensor-hall", "--database-url", sqlite_url
    )
    assert again.returncode == 1
    assert "exists already" in again.stderr
    assert roomtemp("token", "revoke", "sensor-hall", "--database-url", sqlite_url).returncode == 0
    unknown = roomtemp("token", "revoke", "sensor-hall", "--database-url", sqlite_url)
    assert unknown.returncode == 1
    assert "no token named 'sensor-hall'" in unknown.stderr


def a_created_token_should_appear_nowhere_in_the_database_file(sqlite_url: str) -> None:
    token = create_token(sqlite_url, "sensor-hall", "write")
    secret = token.removeprefix(f"rt_{token.split('_')[1]}_").encode()
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    stored = b"".join(path.read_bytes() for path in database.parent.glob(f"{database.name}*"))
    assert b"sensor-hall" in stored  # the file that was read is the one written
    assert secret not in stored


@pytest.mark.parametrize(
    ("args", "env"),
    [(["serve", "--log-level", "loud"], {}), (["serve"], {"ROOMTEMP_LOG_LEVEL": "loud"})],
)
def a_bad_log_level_should_name_the_flag_and_the_variable(
    args: list[str], env: dict[str, str]
) -> None:
    result = roomtemp(*args, env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("roomtemp serve: --log-level or ROOMTEMP_LOG_LEVEL 'loud': ")
    assert "'debug'" in result.stderr
    assert "pydantic" not in result.stderr
    assert "log_level" not in result.stderr


def a_bad_setting_should_never_show_a_secret() -> None:
    url = "postgresql://roomtemp:hunter2-password@db/roomtemp"
    result = roomtemp(
        "migrate", env={"ROOMTEMP_DATABASE_URL": url, "ROOMTEMP_ADMIN_TOKEN": "short"}
    )
    assert result.returncode == 1
    assert "ROOMTEMP_ADMIN_TOKEN: the admin token must be at least 16" in result.stderr
    assert "'short'" not in result.stderr
