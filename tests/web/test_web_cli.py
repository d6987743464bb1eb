"""The web app's commands: passwd (stdin) and token, both in the trail; serve's argument checks; --help."""

from __future__ import annotations

from typer.testing import CliRunner

from gridaudit.cli import app as cli


def test_passwd_from_stdin_then_login(web_store, web_dataset):
    from fastapi.testclient import TestClient

    from .conftest import login, make_app

    runner = CliRunner()
    out = runner.invoke(cli, ["audit", "users", "passwd", "lead1", "--store", str(web_store), "--user", "admin"],
                        input="a-brand-new-pass\n")  # fmt: skip
    assert out.exit_code == 0, out.output
    short = runner.invoke(cli, ["audit", "users", "passwd", "lead1", "--store", str(web_store), "--user", "admin"],
                          input="short\n")  # fmt: skip
    assert short.exit_code == 2 and "8" in short.output
    other = runner.invoke(cli, ["audit", "users", "passwd", "lead2", "--store", str(web_store), "--user", "lead1"],
                          input="another-long-one\n")  # fmt: skip
    assert other.exit_code == 2  # not an admin and not themselves
    web = make_app(web_store, web_dataset)
    with TestClient(web, follow_redirects=False) as c:
        assert login(c, "lead1").status_code == 401  # the old password is gone
        assert login(c, "lead1", "a-brand-new-pass").status_code == 303
    with web.state.store.transaction() as s:
        from gridaudit.audit.trail import history

        assert [e.action for e in history(s, "user", "lead1")][-1] == "user_passwd"
    web.state.store.dispose()


def test_token_prints_a_working_bearer_token(web_store, web_dataset):
    from fastapi.testclient import TestClient

    from .conftest import make_app

    out = CliRunner().invoke(
        cli, ["audit", "users", "token", "inspector1", "--store", str(web_store), "--user", "admin"]
    )
    assert out.exit_code == 0, out.output
    token = out.stdout.strip().splitlines()[-1]
    web = make_app(web_store, web_dataset)
    mine = TestClient(web).get("/api/v1/tasks?mine=true", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200
    assert {t["assignee_id"] for t in mine.json()["items"]} == {"inspector1"}
    web.state.store.dispose()


def test_serve_refuses_a_missing_store_or_dataset(tmp_path):
    runner = CliRunner()
    out = runner.invoke(cli, ["serve", "--store", str(tmp_path / "nope.db")])
    assert out.exit_code == 2 and "nope.db" in out.output
    out = runner.invoke(cli, ["serve", "--dataset", str(tmp_path), "--store", str(tmp_path / "x.db")])
    assert out.exit_code == 2 and "CURRENT" in out.output


def test_serve_passes_the_console_limits_and_checks_them(web_store, web_dataset, monkeypatch):
    import uvicorn

    started: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    runner = CliRunner()
    base = ["serve", "--dataset", str(web_dataset), "--store", str(web_store)]
    out = runner.invoke(cli, [*base, "--sql-timeout", "2.5", "--sql-rows", "7", "--port", "8123"])
    assert out.exit_code == 0, out.output
    console = started["app"].state.settings.console
    assert (console.time_limit_seconds, console.row_cap, started["port"]) == (2.5, 7, 8123)
    started["app"].state.store.dispose()
    out = runner.invoke(cli, ["--lang", "en", *base, "--sql-rows", "0"])
    assert out.exit_code == 2 and "--sql-rows must be" in out.output
    out = runner.invoke(cli, ["--lang", "en", *base, "--sql-timeout", "-1"])
    assert out.exit_code == 2 and "--sql-timeout must be" in out.output


def test_serve_workers_hands_the_settings_to_each_worker(web_store, web_dataset, monkeypatch):
    """--workers N runs uvicorn from the import string with the settings in the environment; the worker's app
    factory builds an app with the same settings (a worker of another version refuses unknown keys)."""
    import json

    import pytest
    import uvicorn

    from gridaudit.web import workers
    from gridaudit.web.settings import settings_from_json, settings_to_json

    started: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    monkeypatch.delenv(workers.SETTINGS_ENV, raising=False)
    base = ["serve", "--dataset", str(web_dataset), "--store", str(web_store)]
    out = CliRunner().invoke(cli, [*base, "--workers", "2", "--sql-rows", "9"])
    assert out.exit_code == 0, out.output
    assert started["app"] == "gridaudit.web.workers:app" and started["factory"] and started["workers"] == 2
    import os

    app = workers.app()  # what each worker process runs
    try:
        s = app.state.settings
        assert (s.dataset, s.console.row_cap, s.store) == (web_dataset, 9, str(web_store))
        assert settings_from_json(settings_to_json(s)) == s
    finally:
        app.state.store.dispose()
        monkeypatch.delenv(workers.SETTINGS_ENV)
    assert workers.SETTINGS_ENV not in os.environ
    with pytest.raises(ValueError, match="unknown web settings: colour"):
        settings_from_json(json.dumps({**json.loads(settings_to_json(s)), "colour": "red"}))
    out = CliRunner().invoke(cli, ["--lang", "en", *base, "--workers", "0"])
    assert out.exit_code == 2 and "--workers must be 1–64" in out.output


def test_serve_engine_options(web_store, web_dataset, monkeypatch, pg_url):
    """--engine postgres --pg URL serves off PostgreSQL (the engine opened before uvicorn starts, so a bad
    server exits 2 at once); spark, postgres without --pg and postgres with several workers are refused."""
    import uvicorn

    from gridaudit.web.settings import settings_from_json, settings_to_json

    started: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    runner = CliRunner()
    base = ["--lang", "en", "serve", "--dataset", str(web_dataset), "--store", str(web_store)]
    out = runner.invoke(cli, [*base])
    assert out.exit_code == 0, out.output
    default = started.pop("app")
    started.clear()
    assert default.state.settings.engine.kind == "duckdb" and default.state.engines.opened == 0  # opened lazily
    default.state.store.dispose()
    out = runner.invoke(cli, [*base, "--engine", "postgres", "--pg", pg_url, "--threads", "2"])
    assert out.exit_code == 0, out.output
    app = started.pop("app")
    started.clear()
    try:
        engines = app.state.engines
        assert engines.opened == 1 and [s.engine.name for s in engines._slots.values()] == ["postgres"]
        s = app.state.settings
        assert (s.engine.kind, s.engine.postgres_url, s.engine.threads) == ("postgres", pg_url, 2)
        assert settings_from_json(settings_to_json(s)) == s
    finally:
        engines.close()
        app.state.store.dispose()
    out = runner.invoke(cli, [*base, "--engine", "postgres", "--pg", "postgresql://nobody@127.0.0.1:1/none"])
    assert out.exit_code == 2 and "cannot start engine postgres" in out.output and started == {}  # never served
    out = runner.invoke(cli, [*base, "--engine", "postgres"])
    assert out.exit_code == 2 and "--engine postgres needs --pg" in out.output
    out = runner.invoke(cli, [*base, "--engine", "postgres", "--pg", pg_url, "--workers", "2"])
    assert out.exit_code == 2 and "--workers 1 only" in out.output
    out = runner.invoke(cli, [*base, "--engine", "spark"])
    assert out.exit_code == 2 and "does not serve from --engine spark" in out.output
    assert started == {}
