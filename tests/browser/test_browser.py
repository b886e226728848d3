"""A county liaison and a supervisor at work in a real browser (headless chromium)."""
from __future__ import annotations

import hashlib

from services.clues.lifecycle import get_clue
from services.evidence.files import list_evidence
from services.ladder.cases import list_cases

from ..evidence_samples import pdf


def test_a_liaison_submits_a_clue_for_approval_and_the_supervisor_approves_it(site, people):
    web, numbers = site
    n = numbers["rectify"]
    liaison = people()
    liaison.sign_in("off.a")
    page = liaison.page
    page.click(f"#to-rectify a:has-text('{n}')")
    page.wait_for_url(f"**/clues/{n}")
    # the evidence file first: uploaded from the page, checked by its content, listed with its digest
    page.set_input_files("#upload input[type=file]", files=[
        {"name": "整改情况报告.pdf", "mimeType": "application/pdf", "buffer": pdf("整改情况报告")}])
    page.click("#upload button[type=submit]")
    page.wait_for_url(f"**/clues/{n}?done=attach_evidence")
    assert "整改情况报告.pdf" in page.inner_text("#evidence")
    [stored] = list_evidence(web.engine, web.campaign, owner_kind="clue", ref=n, actor="off.a")
    assert stored.sha256 == hashlib.sha256(pdf("整改情况报告")).hexdigest()
    form = page.locator("form[data-action=submit_evidence]")
    form.locator("textarea[name=evidence]").fill("整改报告、现场照片及处罚决定书复印件")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/clues/{n}?done=submit_evidence")
    assert "整改完成(申请销号)" in page.inner_text("h1")
    assert page.locator("form[data-action]").count() == 0  # 销号 is not theirs to grant
    assert get_clue(web.engine, web.campaign, n).state == "rectified"

    supervisor = people()
    supervisor.sign_in("sup.city")
    page = supervisor.page
    page.click(f"#to-approve a:has-text('{n}')")
    page.wait_for_url(f"**/clues/{n}")
    assert "整改报告、现场照片及处罚决定书复印件" in page.inner_text("dl.facts")
    href = page.get_attribute("#evidence a", "href")
    download = page.request.get(href)  # the supervisor's session, through the same permission check
    assert download.status == 200 and download.body() == pdf("整改情况报告")
    page.click("form[data-action=approve] button[type=submit]")
    page.wait_for_url(f"**/clues/{n}?done=approve")
    assert "办结/销号" in page.inner_text("h1")
    view = get_clue(web.engine, web.campaign, n)
    assert (view.state, view.resolution, view.history[-1]["actor"]) == ("closed", "approved", "sup.city")
    assert liaison.problems == [] and supervisor.problems == []


def test_the_supervisor_confirms_two_proposed_cases_at_once(site, people):
    web, _ = site
    waiting = list_cases(web.engine, web.campaign, state="proposed")
    assert len(waiting) == 3
    supervisor = people()
    supervisor.sign_in("sup.city")
    page = supervisor.page
    boxes = page.locator("#to-confirm input[type=checkbox][name=case]")
    assert boxes.count() == 3
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("#to-confirm button[value=issue]")
    page.wait_for_url("**/work?done=*")
    assert "2 项督办措施已确认下发" in page.inner_text("[role=status]")
    assert page.locator("#to-confirm input[type=checkbox][name=case]").count() == 1
    states = {c.id: c.state for c in list_cases(web.engine, web.campaign)}
    assert sorted(states[c.id] for c in waiting) == ["issued", "issued", "proposed"]
    assert supervisor.problems == []


def test_the_dashboard_draws_its_charts_and_is_kept_as_a_screenshot(site, people, artifacts):
    supervisor = people()
    supervisor.sign_in("sup.city")
    page = supervisor.page
    page.goto("/dashboard")
    assert "共受理问题线索" in page.inner_text("#figures")
    charts = page.locator(".charts img")
    assert charts.count() >= 1
    # each chart decoded as an image under the page's CSP (img-src 'self' data:)
    widths = page.eval_on_selector_all(".charts img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert all(w > 0 for w in widths), widths
    shot = artifacts / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert supervisor.problems == []


def test_my_work_fits_a_phone(site, people, artifacts):
    liaison = people(viewport={"width": 390, "height": 844})
    liaison.sign_in("off.a")
    page = liaison.page
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"
    page.screenshot(path=str(artifacts / "my-work-phone.png"), full_page=True)
    assert liaison.problems == []
