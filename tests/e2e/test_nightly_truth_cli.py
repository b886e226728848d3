"""The nightly run's truth on the command line (issue 15): a night that issued notices
no channel carries exits non-zero with ONE line on stderr (no Prefect traceback before
it), and `rectify status` says what is left undelivered."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.prefect


def test_enforce_fails_in_one_line_and_status_says_what_was_not_sent(cli, campaign, prefect_api):
    env = {"PREFECT_API_URL": prefect_api}
    line = cli.fail("enforce", "--now", "2023-04-08 00:05", env=env, timeout=120)  # asserts one line, no traceback
    assert line.startswith("3 notices never queued for delivery: no channel configured reaches their addressee "
                           "(RECTIFY_SMTP_HOST, RECTIFY_WEBHOOK_URL or RECTIFY_FILE_DROP) — nightly run of "
                           "smoke-2023 as of 2023-04-08 00:05: delivery failed; sweep, calendar check, escalation, "
                           "reports, witness ran"), line
    r = cli.run("enforce", "--now", "2023-04-08 00:05", env=env, timeout=120)
    assert "Encountered exception" not in r.stderr and r.stderr.count("\n") == 1, str(r)

    status = cli.ok("status", "--now", "2023-04-08 09:00")
    assert "delivery needs attention: 3 notices never queued for delivery" in status.stdout, str(status)
    delivery = cli.json("status", "--now", "2023-04-08 09:00")["delivery"]
    assert (delivery["dead"], delivery["unroutable"], delivery["unsent_notices"]) == (0, 0, 3)

    # configuring a channel afterwards does not hide them: they were never queued
    drop = {"RECTIFY_FILE_DROP": str(cli.cwd / "drop")}
    again = cli.ok("status", "--now", "2023-04-08 09:00", env=drop)
    assert "delivery needs attention: 3 notices never queued" in again.stdout
