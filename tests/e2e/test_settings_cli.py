"""Settings as a user gives them to `rectify` (RECTIFY_* variables, --db): a bad
one is refused before the command runs, in one line naming it, and changes
nothing; a good one reaches the flows the command runs."""
from __future__ import annotations

import pytest
import yaml

from .conftest import SMALL_PLAN, Cli, clean_env


@pytest.mark.parametrize("env,args,message", [
    ({"RECTIFY_DB": "mysql://u:pa55word@h/db"}, (),
     "RECTIFY_DB: 'mysql://u@h/db' is not sqlite:///PATH or postgresql://USER@HOST/DB"),
    ({}, ("--db", "mysql://u@h/db"),
     "RECTIFY_DB: 'mysql://u@h/db' is not sqlite:///PATH or postgresql://USER@HOST/DB"),
    ({"RECTIFY_SMTP_PORT": "abc"}, (), "RECTIFY_SMTP_PORT: 'abc' is not a port number"),
    ({"RECTIFY_CALENDAR_OVERRIDES": "no-such-overrides.yaml"}, (),
     "RECTIFY_CALENDAR_OVERRIDES: 'no-such-overrides.yaml': no such file"),
    ({"RECTIFY_SCHEDULER": "cron"}, (), "RECTIFY_SCHEDULER: 'cron' is not one of embedded, prefect"),
    ({"RECTIFY_WEBHOOK_URL": "ftp://robot.example.org/send?access_token=t0ken"}, (),
     "RECTIFY_WEBHOOK_URL: 'ftp://robot.example.org/send' is not an http(s) URL"),
])
def test_a_bad_setting_stops_the_command_at_start_in_one_line_naming_it(sqlite_cli: Cli, env, args, message):
    # `load` would write: refused at start, it writes nothing
    assert sqlite_cli.fail(*args, "load", SMALL_PLAN, "--now", "2023-03-15", env=env) == message
    assert "no campaign loaded" in sqlite_cli.fail("status")


def test_in_prefect_mode_the_database_must_come_from_the_environment(sqlite_cli: Cli, tmp_path):
    # the flow runs Prefect starts are processes of their own: a --db flag cannot reach them
    other = f"sqlite:///{tmp_path / 'other.db'}"
    sqlite_cli.ok("--db", other, "init")
    msg = sqlite_cli.fail("--db", other, "serve", env={"RECTIFY_SCHEDULER": "prefect",
                                                        "PREFECT_API_URL": "http://127.0.0.1:9/api"})
    assert msg == ("--db does not reach the flow runs Prefect starts in processes of their own: "
                   "set RECTIFY_DB instead")


@pytest.mark.slow
def test_generated_reports_go_to_the_reports_folder_setting(sqlite_url, tmp_path, prefect_api):
    data = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    data["reporting"] = [{"key": "monthly", "name": "工作简报", "start": "2023-04-01", "until": "2023-10-31",
                          "schedule": {"kind": "monthly", "day": 25}}]
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    folder = tmp_path / "简报"
    cli = Cli(clean_env(sqlite_url, tmp_path, PREFECT_API_URL=prefect_api,
                        RECTIFY_REPORTS_DIR=str(folder)), tmp_path)
    cli.ok("load", plan, "--now", "2023-03-15")
    r = cli.ok("report", "generate", "monthly", "--period", "2023-04", "--format", "md", "--as", "sup.city",
               "--now", "2023-04-26 09:00")
    assert str(folder / "smoke-2023" / "city" / "monthly-2023-04.md") in r.stdout
    assert (folder / "smoke-2023" / "city" / "monthly-2023-04.md").is_file()
    assert not (tmp_path / "home" / "reports").exists()
