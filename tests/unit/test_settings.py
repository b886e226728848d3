"""The one settings object: every RECTIFY_* variable typed and checked when it is
read, a refusal being one line that names the variable; what it configures."""
from __future__ import annotations

from pathlib import Path

import pytest

from services.core.runtime import Runtime
from services.core.settings import Settings
from statemachine.errors import InvalidInput


def test_channels_come_from_the_settings(tmp_path):
    got = Runtime(Settings.from_env({
        "RECTIFY_SMTP_HOST": "127.0.0.1", "RECTIFY_SMTP_PORT": "2525", "RECTIFY_SMTP_USER": "u",
        "RECTIFY_SMTP_PASSWORD": "pw", "RECTIFY_SMTP_STARTTLS": "true",
        "RECTIFY_WEBHOOK_URL": "http://127.0.0.1:9/x", "RECTIFY_WEBHOOK_STYLE": "WeCom",
        "RECTIFY_FILE_DROP": str(tmp_path)})).channels
    assert set(got) == {"email", "webhook", "file"}
    assert (got["email"].port, got["email"].starttls, got["email"].username) == (2525, True, "u")
    assert "pw" not in repr(got["email"])
    assert got["webhook"].style == "wecom" and got["file"].directory == tmp_path
    assert Runtime(Settings.from_env({})).channels == {}
    assert Runtime(Settings.from_env({"RECTIFY_SMTP_HOST": "h"})).channels["email"].port == 25
    assert Runtime(Settings(smtp_host="h", smtp_port=2526)).channel_names == ("email",)


@pytest.mark.parametrize("env,message", [
    ({"RECTIFY_SMTP_HOST": "h", "RECTIFY_SMTP_PORT": "smtp"}, "RECTIFY_SMTP_PORT: 'smtp' is not a port number"),
    ({"RECTIFY_SMTP_PORT": "70000"}, "RECTIFY_SMTP_PORT: '70000' is not a port number"),
    ({"RECTIFY_WEBHOOK_URL": "http://h/x", "RECTIFY_WEBHOOK_STYLE": "slack"},
     "RECTIFY_WEBHOOK_STYLE: 'slack' is not one of generic, dingtalk, wecom"),
    ({"RECTIFY_WEBHOOK_URL": "ftp://h/x?key=SECRET"}, "RECTIFY_WEBHOOK_URL: 'ftp://h/x' is not an http(s) URL"),
    ({"RECTIFY_DB": "mysql://u:SECRET@h/db"},
     "RECTIFY_DB: 'mysql://u@h/db' is not sqlite:///PATH or postgresql://USER@HOST/DB"),
    ({"RECTIFY_CALENDAR_OVERRIDES": "/nonexistent/假日.yaml"},
     "RECTIFY_CALENDAR_OVERRIDES: '/nonexistent/假日.yaml': no such file"),
    ({"RECTIFY_SCHEDULER": "cron"}, "RECTIFY_SCHEDULER: 'cron' is not one of embedded, prefect"),
])
def test_a_bad_setting_is_refused_in_one_line_naming_it(env, message):
    with pytest.raises(InvalidInput) as e:
        Settings.from_env(env)
    assert str(e.value) == message


def test_every_bad_setting_is_named_on_the_one_line():
    with pytest.raises(InvalidInput) as e:
        Settings.from_env({"RECTIFY_SMTP_PORT": "x", "RECTIFY_SMTP_STARTTLS": "maybe"})
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("RECTIFY_SMTP_PORT: 'x' is not a port number; RECTIFY_SMTP_STARTTLS: 'maybe'")


def test_a_secret_is_neither_shown_in_a_refusal_nor_in_the_settings_repr():
    with pytest.raises(InvalidInput) as e:
        Settings.from_env({"RECTIFY_DB": "mysql://u:pa55word@h/db"})
    assert "pa55word" not in str(e.value)
    s = Settings(smtp_password="pa55word", webhook_url="https://oapi.example.org/robot/send?access_token=t0ken")
    assert "pa55word" not in repr(s) and "t0ken" not in repr(s)


def test_postgresql_urls_are_forced_onto_psycopg_3():
    for given in ("postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg2://u@h/db"):
        assert Settings(db=given).db_url == "postgresql+psycopg://u@h/db"
    assert Settings(db="sqlite:///x.db").db_url == "sqlite:///x.db"


def test_the_home_holds_the_default_database_and_reports(tmp_path):
    s = Settings(home=tmp_path)
    assert s.db_url == f"sqlite:///{tmp_path / 'rectify.db'}"
    assert Runtime(s).reports_dir == tmp_path / "reports"
    assert Runtime(Settings(home=tmp_path, reports_dir=tmp_path / "r")).reports_dir == tmp_path / "r"
    assert Settings.from_env({"RECTIFY_HOME": "~/elsewhere"}).home == Path.home() / "elsewhere"


def test_an_empty_variable_is_unset_and_a_flag_overrides_the_environment(tmp_path):
    s = Settings.from_env({"RECTIFY_SMTP_PORT": "", "RECTIFY_CALENDAR_OVERRIDES": " ",
                           "RECTIFY_DB": "sqlite:///from-env.db", "RECTIFY_CAMPAIGN": "c-env"},
                          db="sqlite:///from-flag.db", campaign=None)
    assert (s.smtp_port, s.calendar_overrides) == (25, None)
    assert s.db_url == "sqlite:///from-flag.db" and s.campaign == "c-env"


def test_settings_given_in_code_never_read_the_environment(monkeypatch):
    monkeypatch.setenv("RECTIFY_DB", "sqlite:///from-env.db")
    monkeypatch.setenv("RECTIFY_SMTP_HOST", "smtp.example.org")
    s = Settings(db="sqlite:///given.db")
    assert s.db_url == "sqlite:///given.db" and s.smtp_host == ""
    assert Settings.from_env().smtp_host == "smtp.example.org"


def test_settings_given_in_code_are_checked_like_the_environment():
    with pytest.raises(InvalidInput, match="^RECTIFY_SMTP_PORT: '0' is not a port number$"):
        Settings(smtp_port=0)


def test_an_unknown_setting_in_code_is_refused():
    with pytest.raises(InvalidInput, match="^smtp_hots: not a setting$"):
        Settings(smtp_hots="h")


def test_a_calendar_override_file_is_the_runtime_calendar(tmp_path):
    f = tmp_path / "overrides.yaml"
    f.write_text("years:\n  2031:\n    holidays: [2031-01-01]\n", encoding="utf-8")
    cal = Runtime(Settings(calendar_overrides=f)).calendar
    assert 2031 in cal.overrides


def test_a_derived_runtime_changes_what_it_is_told_and_keeps_the_rest(tmp_path):
    from datetime import datetime

    from statemachine.time.calendar import TZ

    at = datetime(2023, 5, 1, 9, tzinfo=TZ)
    base = Runtime(Settings(home=tmp_path, smtp_host="h"), now=at)
    derived = base.but(reports_dir=tmp_path / "out")
    assert derived.reports_dir == tmp_path / "out" and base.reports_dir == tmp_path / "reports"
    assert derived.settings.smtp_host == "h" and derived.clock() == at
    with pytest.raises(InvalidInput, match="^RECTIFY_SMTP_PORT: "):
        base.but(smtp_port="smtp")
