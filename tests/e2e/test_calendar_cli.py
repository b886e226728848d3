"""The working-day calendar as an operator meets it through the real `rectify`:
what `rectify calendar` says, the warning of `status` and `serve` before the
covered years end, a broken override file, and a sweep in a year nobody covers."""
from __future__ import annotations

import re
import select
import signal
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest
from sqlalchemy import func, select as sql_select

from models.tables import Lapse, SweepRun

from .conftest import RECTIFY, ROOT, SMALL_PLAN, Cli, assert_one_line_error

PACKAGE = f"chinese_calendar {version('chinese_calendar')}"
EXAMPLE = ROOT / "deploy" / "calendar-overrides.example.yaml"
WARNING_2026_12_10 = ("rectify: warning: the working-day calendar ends on 2026-12-31 (in 21 days): add 2027 "
                      "to the calendar override file (RECTIFY_CALENDAR_OVERRIDES) from the State Council's "
                      "holiday notice (see 'rectify calendar')")


def _overrides(tmp_path: Path) -> Path:
    """The shipped example with its 2027 block uncommented, as the file tells operators to."""
    head, sep, block = EXAMPLE.read_text(encoding="utf-8").partition("\nyears:\n")
    path = tmp_path / "calendar.yaml"
    path.write_text(head + sep + re.sub(r"(?m)^#", "", block), encoding="utf-8")
    return path


def _written(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(sql_select(func.count()).select_from(SweepRun)).scalar_one(),
                conn.execute(sql_select(func.count()).select_from(Lapse)).scalar_one())


@pytest.mark.prefect
def test_a_sweep_in_a_year_no_calendar_covers_is_one_line_and_writes_nothing(cli: Cli, engine, prefect_api):
    cli.ok("load", "003-xinzhou-2023")
    prefect = {"PREFECT_API_URL": prefect_api}
    for command in ("sweep", "enforce"):
        r = cli.run("--now", "2031-03-01", command, env=prefect, timeout=120)
        assert_one_line_error(r)  # no Prefect traceback above it
        assert r.stderr.startswith("rectify: error: no working-day calendar for 2031 (needed for 2031-02-28): "
                                   "add the year to the calendar override file (RECTIFY_CALENDAR_OVERRIDES)"), str(r)
        assert _written(engine) == (0, 0), command  # no sweep_runs row, no lapse


def test_calendar_shows_the_packages_years_and_where_coverage_ends(sqlite_cli: Cli):
    r = sqlite_cli.ok("--now", "2026-06-01", "calendar")
    assert re.search(rf"2004–2026\s*│\s*{re.escape(PACKAGE)}", r.stdout), str(r)
    assert "no override file (RECTIFY_CALENDAR_OVERRIDES is not set" in r.stdout
    assert "as of 2026-06-01: covered without a gap until 2026-12-31 (213 days)" in r.stdout
    assert r.stderr == ""  # more than 30 days left: no warning

    r = sqlite_cli.ok("--now", "2026-12-10", "calendar")
    assert r.stderr.strip() == WARNING_2026_12_10


def test_calendar_shows_the_override_files_years_and_the_later_end(sqlite_cli: Cli, tmp_path):
    path = _overrides(tmp_path)
    r = sqlite_cli.ok("--now", "2026-12-10", "calendar", env={"RECTIFY_CALENDAR_OVERRIDES": str(path)})
    assert re.search(rf"2027\s*│\s*override file {re.escape(str(path))}", r.stdout), str(r)
    assert "covered without a gap until 2027-12-31" in r.stdout and r.stderr == ""
    data = sqlite_cli.json("--now", "2026-12-10", "calendar", env={"RECTIFY_CALENDAR_OVERRIDES": str(path)})
    assert data["override_file"] == str(path) and data["override_years"] == [2027]
    assert data["spans"] == [{"first": 2004, "last": 2026, "source": PACKAGE},
                             {"first": 2027, "last": 2027, "source": f"override file {path}"}]
    assert data["covered_until"] == "2027-12-31" and data["warning"] is None


def test_a_broken_override_file_is_one_line_naming_file_and_line(sqlite_cli: Cli, tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text("years:\n  2027:\n    holidays:\n      - 2027-01-01\n      - 2027-02-30\n", encoding="utf-8")
    for args in (("calendar",), ("status",)):
        msg = sqlite_cli.fail(*args, env={"RECTIFY_CALENDAR_OVERRIDES": str(path)})
        assert msg == (f"calendar override file {path}: line 5: bad date '2027-02-30' in years.2027.holidays "
                       "(expected YYYY-MM-DD)")


def test_status_warns_in_one_line_from_30_days_before_the_calendar_ends(sqlite_cli: Cli):
    sqlite_cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    assert sqlite_cli.ok("--now", "2026-11-30", "status").stderr == ""
    r = sqlite_cli.ok("--now", "2026-12-10", "status")
    assert r.stderr.strip() == WARNING_2026_12_10
    assert "smoke-2023" in r.stdout  # and the status itself, as ever


@pytest.mark.slow
def test_serve_warns_when_it_starts(sqlite_cli: Cli, prefect_api):
    sqlite_cli.ok("load", SMALL_PLAN, "--now", "2023-03-15")
    env = dict(sqlite_cli.env, PREFECT_API_URL=prefect_api)
    proc = subprocess.Popen([RECTIFY, "--now", "2026-12-10", "serve", "--cron", "0 3 1 1 *"], env=env,
                            cwd=sqlite_cli.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert select.select([proc.stderr], [], [], 90)[0], "serve printed nothing on stderr"
        assert proc.stderr.readline().strip() == WARNING_2026_12_10
        assert select.select([proc.stdout], [], [], 90)[0], "serve scheduled nothing"
        assert "scheduled daily enforcement of smoke-2023 on '0 3 1 1 *'" in proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    # stopped while it may still be warming Prefect up (before its SIGTERM handler): no exit code asserted
    assert "Traceback" not in out + err, (out, err)
