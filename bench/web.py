"""Benchmark: 50 signed-in people using the web app at once, against the same service calls
made directly in the same run.

    .venv/bin/python bench/web.py [--db URL] [--users N] [--seconds S] [--think T]
                                  [--capacity-seconds C] [--clues-per-county K]

Without --db a throwaway PostgreSQL cluster is started (bench/pg.py). The 忻州 plan
(seed 003) is loaded with N people (default 50: about one in six a supervisor of
the prefecture, the others liaisons of its 14 counties, three a county), K clues per
county (default 300, 4,200 in all) registered and moved through the services into
every state, and one night of the ladder run (lapses, cases, 通报批评). Each person
gets a password (services/accounts/links.py, Argon2).

The real app is started as `rectify web` in a child process on a free port of
127.0.0.1 (it dies with this process: SIGTERM on exit, and PR_SET_PDEATHSIG should
this process die first). Every person signs in over HTTP (the sign-in form, its
CSRF token, the session cookie). Then, for S seconds each:

- web: N users at once (httpx, one client and cookie jar each), each repeating a
  mix of 我的工作 (GET /work, 25 %), a clue's page (GET /clues/{n}, 35 %), a list
  (GET /api/v1/clues with a filter and a page, 25 %) and a transition (15 %,
  POST of the clue page's form with its CSRF token and version: a liaison
  verifies, substantiates or submits evidence for one of their county's clues;
  a supervisor approves one submitted for 销号), pausing T seconds on average
  (uniformly 0.5·T to 1.5·T, default 1 s: a busy person) between requests;
- direct (the floor): the same people, mix and pauses in N threads of this
  process calling what the routes call (services/work/mywork.py `my_work`; the
  clue page's `readable_clue`, plan, `clue_actions`, `list_evidence`;
  `list_clues`; `transition`) on an engine of their own, without HTTP, session,
  template or JSON.

Then C seconds of each without pauses (default 10; 0 skips): the capacity, in
requests per second, of the app and of the direct calls.

Prints p50 / p99 latency per kind and in all, requests per second, the ratios;
the last line reads `web_p50_ms=… web_p99_ms=… rps=… direct_p50_ms=… direct_p99_ms=…
web_vs_direct=… capacity_rps=… direct_capacity_rps=… capacity_ratio=…`.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import ctypes
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pg import database_url  # noqa: E402

NOW = "2023-06-15 10:00"  # the domain's clock of the served app and of the direct calls
START = datetime.fromisoformat("2023-03-15T09:00:00+08:00")
PASSWORD = "Bench-Lotus-2023"
SECRET = "bench-web-secret-key-0123456789abcdefghij"
PREFECTURE = "xinzhou-jtj"
MIX = (("work", 25), ("clue", 35), ("list", 25), ("transition", 15))
KINDS = [k for k, _ in MIX]
LIAISON_STEPS = {"received": ("verify", "verifying"), "verifying": ("substantiate", "rectifying"),
                 "rectifying": ("submit_evidence", "rectified")}
STEP_FORMS = {"verify": {}, "approve": {},
              "substantiate": {"measures": "立即整改，建立台账逐项销号", "deadline": "2023-07-14",
                               "owner": "基准责任人"},
              "submit_evidence": {"evidence": "整改报告及现场照片"}}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SURNAMES = "赵钱孙周吴郑冯陈褚卫蒋沈韩杨朱秦许何吕施张孔曹严华金魏陶姜"
GIVEN = ("晓明", "文静", "志远", "雨涵", "建国", "立新", "佳怡", "振宇", "晨阳", "书仪", "嘉豪", "思源")


# -- the campaign ---------------------------------------------------------------------------
def plan_with_people(users: int):
    """Seed 003 with `users` people: supervisors of the prefecture and county liaisons."""
    from services.campaigns.plans import read_plan
    from statemachine.plan import Plan

    raw = read_plan("003-xinzhou-2023").model_dump(mode="json")
    counties = [u["code"] for u in raw["units"] if u["level"] == "county"]
    supervisors = max(1, users * 8 // 50)
    people = [p for p in raw["people"] if p["role"] == "inspector"]  # not among the users
    taken = {p["username"] for p in people}

    def person(username: str, unit: str, role: str) -> dict:
        i = len(people)
        return {"username": username, "name": SURNAMES[i % len(SURNAMES)] + GIVEN[i // len(SURNAMES) % len(GIVEN)],
                "unit": unit, "role": role, "email": f"{username}@example.org", "phone": f"139000{i:05d}"}

    for i in range(supervisors):
        people.append(person("sup.xinzhou" if i == 0 else f"sup.xinzhou{i + 1}", PREFECTURE, "supervisor"))
    for i in range(users - supervisors):
        county, nth = counties[i % len(counties)], i // len(counties)
        people.append(person(f"off.{county}" if nth == 0 else f"off.{county}{nth + 1}", county, "officer"))
    assert not taken & {p["username"] for p in people[len(taken):]}
    raw["people"] = people
    return Plan.model_validate(raw), counties


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone(timedelta(hours=8)))


def seed(engine, plan, counties: list[str], per_county: int) -> None:
    """Clues of every county in every state, as the services put them there, and one
    night of the ladder: received over two months; of each batch, some verified, some
    substantiated, some submitted for 销号, some approved."""
    from services.campaigns.load import campaign_id, load_plan
    from services.clues.lifecycle import ClueInput, NewClue, add_clues, bulk_transition
    from services.ladder import automatic, sweep
    from statemachine.time.calendar import WorkingCalendar

    calendar = WorkingCalendar()
    code = plan.campaign.code
    load_plan(engine, plan, source="bench", now=START)
    aspects = [a.key for a in plan.aspects]
    weeks = 8
    for w in range(weeks):  # a batch a week, from 04-13 to 06-01
        day = at("2023-04-13 09:00") + timedelta(days=7 * w)
        items = [NewClue(channel=("12345", "12328", "信访投诉")[i % 3], aspect=aspects[i % len(aspects)],
                         summary=f"群众反映执法问题（第{w + 1}批第{i + 1}项）", unit=counties[i % len(counties)],
                         received_at=day)
                 for i in range(per_county * len(counties) // weeks)]
        numbers = add_clues(engine, code, items, actor="sup.xinzhou", now=day, calendar=calendar)
        # of 20: 8 stay received, 3 verifying, 4 rectifying, 2 rectified, 3 closed
        verified = [n for i, n in enumerate(numbers) if i % 20 >= 8]
        substantiated = [n for i, n in enumerate(numbers) if i % 20 >= 11]
        submitted = [n for i, n in enumerate(numbers) if i % 20 >= 15]
        approved = [n for i, n in enumerate(numbers) if i % 20 >= 17]
        kw = dict(actor="sup.xinzhou", calendar=calendar)
        bulk_transition(engine, code, "verify", now=day + timedelta(days=1), numbers=verified, **kw)
        deadline = (day + timedelta(days=30)).date()
        bulk_transition(engine, code, "substantiate", now=day + timedelta(days=2), numbers=substantiated,
                        data=ClueInput(measures="立即整改", deadline=deadline, owner="基准责任人"), **kw)
        bulk_transition(engine, code, "submit_evidence", now=day + timedelta(days=3), numbers=submitted,
                        data=ClueInput(evidence="整改报告"), **kw)
        bulk_transition(engine, code, "approve", now=day + timedelta(days=4), numbers=approved, **kw)
    cid = campaign_id(engine, code)
    as_of = at("2023-06-15 00:05")
    params = sweep.parameters(engine, cid, as_of, calendar)
    for step in sweep.STEPS:
        sweep.run_step(engine, step, campaign_id=cid, as_of=as_of, run_key="bench-night", params=params)
    automatic.propose_for_lapses(engine, code, now=as_of, calendar=calendar)
    automatic.issue_automatic(engine, code, channels=("file",), now=as_of, calendar=calendar)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def make_accounts(engine, campaign: str, usernames: list[str]) -> None:
    from services.accounts.links import invite, set_password

    now = datetime.now(timezone.utc)
    for name in usernames:
        token = invite(engine, campaign, name, by="operator", now=now, valid_for=timedelta(hours=1)).token
        set_password(engine, token, PASSWORD, now=now)


# -- who does what ----------------------------------------------------------------------------
@dataclass
class Item:
    number: str
    state: str
    version: int


@dataclass
class Person:
    username: str
    role: str
    county: str | None          # a liaison's county; None for a supervisor
    readable: list[str]          # clue numbers whose pages they open
    mine: collections.deque = field(default_factory=collections.deque)  # a liaison's clues to move on
    rng: random.Random = field(default_factory=random.Random)
    csrf: str = ""

    def kind(self) -> str:
        return self.rng.choices(KINDS, weights=[w for _, w in MIX])[0]

    def list_query(self, counties: list[str]) -> dict:
        if self.county:
            q = {"state": self.rng.choice(("received", "verifying", "rectifying", "closed"))}
        elif self.rng.random() < 0.5:
            q = {"unit": self.rng.choice(counties), "state": "rectified"}
        else:
            q = {"overdue": "true"}
        return {**q, "limit": 20, "offset": 20 * self.rng.randrange(3)}


class Work:
    """The clues waiting for a step: each liaison's own, and those submitted for 销号 that
    any supervisor takes. A step done moves its clue on (deques: thread-safe pops)."""

    def __init__(self, people: list[Person], rectified: list[Item]):
        self.people = people
        self.rectified = collections.deque(rectified)
        self.ran_dry = 0

    def take(self, p: Person) -> tuple[Item, str] | None:
        try:
            if p.county:
                item = p.mine.popleft()
                return item, LIAISON_STEPS[item.state][0]
            return self.rectified.popleft(), "approve"
        except IndexError:
            self.ran_dry += 1
            return None

    def done(self, p: Person, item: Item, trigger: str) -> None:
        item.version += 1
        if trigger == "approve":
            return
        item.state = LIAISON_STEPS[item.state][1]
        (self.rectified if item.state == "rectified" else p.mine).append(item)


def people_and_work(engine, plan, counties: list[str], usernames: list[str], seed_: int) -> tuple[list[Person], Work]:
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT c.number, c.state, c.version, u.code FROM clues c JOIN units u "
                                 "ON u.id = c.unit_id ORDER BY c.number")).all()
    by_county: dict[str, list] = collections.defaultdict(list)
    for r in rows:
        by_county[r.code].append(r)
    roles = {p.username: (p.role, p.unit) for p in plan.people}
    people = []
    for i, name in enumerate(usernames):
        role, unit = roles[name]
        county = unit if role == "officer" else None
        readable = [r.number for r in (by_county[county] if county else rows)]
        people.append(Person(name, role, county, readable, rng=random.Random(seed_ * 1000 + i)))
    for county in counties:  # a county's open clues dealt out among its liaisons
        theirs = [p for p in people if p.county == county]
        if not theirs:  # fewer liaisons than counties (--users)
            continue
        open_ = [r for r in by_county[county] if r.state in LIAISON_STEPS]
        for j, r in enumerate(open_):
            theirs[j % len(theirs)].mine.append(Item(r.number, r.state, r.version))
    rectified = [Item(r.number, r.state, r.version) for r in rows if r.state == "rectified"]
    random.Random(seed_).shuffle(rectified)
    return people, Work(people, rectified)


# -- measuring -------------------------------------------------------------------------------
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """CPU time (user + system) of a process, and with `children` of those it has waited for."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:  # gone
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / _TICK


def postgres_cpu(postmaster: int) -> float:
    """CPU time of a PostgreSQL cluster: its postmaster, its live processes, those ended."""
    total = cpu_seconds(postmaster, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


@dataclass(frozen=True)
class Processes:
    """Whose CPU time a run is charged: this process, the web app's, the database's."""

    server: int | None
    postmaster: int

    def sample(self) -> tuple[float, float, float]:
        t = os.times()
        return (t.user + t.system, cpu_seconds(self.server) if self.server else 0.0,
                postgres_cpu(self.postmaster))


class Stats:
    def __init__(self):
        self.ms: dict[str, list[float]] = {k: [] for k in KINDS}
        self.errors: list[str] = []
        self.started = self.ended = 0.0
        self.cpu = (0.0, 0.0, 0.0)  # seconds of CPU spent during the run: bench, server, database
        self.lock = threading.Lock()

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.ms[kind].append(seconds * 1000)

    def fail(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)

    @property
    def all(self) -> list[float]:
        return [x for v in self.ms.values() for x in v]

    @property
    def count(self) -> int:
        return len(self.all)

    @property
    def rps(self) -> float:
        return self.count / (self.ended - self.started)


def pct(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100)."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * len(s) + 0.5)) - 1))] if s else float("nan")


def show(name: str, st: Stats) -> None:
    parts = [f"{k} p50 {pct(v, 50):.1f} p99 {pct(v, 99):.1f} ms (n={len(v)})" for k, v in st.ms.items()]
    print(f"{name}: {st.count} requests in {st.ended - st.started:.1f}s = {st.rps:.1f}/s; "
          f"all p50 {pct(st.all, 50):.1f} ms p99 {pct(st.all, 99):.1f} ms", flush=True)
    print("  " + "; ".join(parts), flush=True)
    per = [1000 * c / max(1, st.count) for c in st.cpu]
    print(f"  CPU per request: this process {per[0]:.1f} ms, web app {per[1]:.1f} ms, "
          f"PostgreSQL {per[2]:.1f} ms", flush=True)
    if st.errors:
        print(f"  {len(st.errors)} failed, e.g. " + " | ".join(st.errors[:3]), flush=True)


def pause(p: Person, think: float) -> float:
    return p.rng.uniform(0.5 * think, 1.5 * think) if think > 0 else 0.0


# -- the web app ------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # in the child, before exec
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextmanager
def served(url: str, home: Path) -> Iterator[tuple[str, int]]:
    """`rectify web` over `url` in a child process; yields its base URL and pid."""
    import httpx

    port = _free_port()
    env = {**os.environ, "RECTIFY_DB": url, "RECTIFY_HOME": str(home), "RECTIFY_SECRET_KEY": SECRET,
           "RECTIFY_NOW": NOW, "RECTIFY_FILE_DROP": str(home / "drop")}
    log = open(home / "web.log", "wb")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("rectify")), "web", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                sys.exit(f"bench: rectify web exited {proc.returncode}: "
                         f"{(home / 'web.log').read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{base}/sign-in", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            sys.exit("bench: rectify web did not answer within 60 s")
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextmanager
def profiled(pid: int, output: str | None) -> Iterator[None]:
    """py-spy's samples of process `pid` while the block runs, to `output` (collapsed stacks
    of the threads holding the GIL); nothing when `output` is None."""
    if not output:
        yield
        return
    spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
                            "--format", "raw", "--output", output, "--rate", "250", "--gil", "--nonblocking"],
                           stdout=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    try:
        time.sleep(1)  # attached
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)


async def sign_in(client, p: Person) -> None:
    page = await client.get("/sign-in")
    r = await client.post("/sign-in", data={"csrf_token": CSRF.search(page.text).group(1),
                                            "username": p.username, "password": PASSWORD})
    if r.status_code != 303:
        sys.exit(f"bench: {p.username} could not sign in: {r.status_code} {r.text[:300]}")
    work = await client.get("/work")  # the forms' token, bound to the session
    p.csrf = CSRF.search(work.text).group(1)


async def web_request(client, p: Person, kind: str, work: Work, counties: list[str]):
    """One request of `kind` as the person's browser makes it; returns (response, expected
    status, what to do once it succeeded)."""
    if kind == "work":
        return await client.get("/work"), 200, None
    if kind == "clue":
        return await client.get(f"/clues/{p.rng.choice(p.readable)}"), 200, None
    if kind == "list":
        return await client.get("/api/v1/clues", params=p.list_query(counties)), 200, None
    taken = work.take(p)
    if taken is None:
        return None, 0, None
    item, trigger = taken
    form = {"csrf_token": p.csrf, "version": str(item.version), **STEP_FORMS[trigger]}
    r = await client.post(f"/clues/{item.number}/actions/{trigger}", data=form)
    return r, 303, lambda: work.done(p, item, trigger)


async def web_phase(procs: Processes, clients: dict, people: list[Person], work: Work, counties: list[str],
                    seconds: float, think: float) -> Stats:
    st = Stats()
    cpu = procs.sample()

    async def user(p: Person) -> None:
        client = clients[p.username]
        await asyncio.sleep(p.rng.uniform(0, think))  # not all at once
        while time.perf_counter() < deadline:
            kind = p.kind()
            t0 = time.perf_counter()
            r, status, then = await web_request(client, p, kind, work, counties)
            if r is None:  # nothing left to move (counted; the run then fails)
                await asyncio.sleep(pause(p, think) or 0.05)
                continue
            dt = time.perf_counter() - t0
            if r.status_code != status:
                st.fail(f"{kind} {r.request.url.path} {r.status_code} {r.text[:200]}")
            else:
                st.add(kind, dt)
                if then:
                    then()
            await asyncio.sleep(pause(p, think))

    st.started = time.perf_counter()
    deadline = st.started + seconds
    await asyncio.gather(*(user(p) for p in people))
    st.ended = time.perf_counter()
    st.cpu = tuple(b - a for a, b in zip(cpu, procs.sample()))
    return st


async def web_run(base: str, procs: Processes, people: list[Person], work: Work, counties: list[str], args) -> tuple[Stats, Stats | None]:
    import httpx

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)  # a browser's connection
    clients = {p.username: httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=120, limits=limits)
               for p in people}
    try:
        t0 = time.perf_counter()
        for i in range(0, len(people), 2):  # Argon2 (64 MiB) per sign-in: two at a time
            await asyncio.gather(*(sign_in(clients[p.username], p) for p in people[i:i + 2]))
        print(f"{len(people)} people signed in over HTTP in {time.perf_counter() - t0:.1f}s", flush=True)
        for p in people:  # warm: each kind once, not counted
            for kind in ("clue", "list"):
                await web_request(clients[p.username], p, kind, work, counties)
        with profiled(procs.server, args.profile):
            steady = await web_phase(procs, clients, people, work, counties, args.seconds, args.think)
            capacity = None
            if args.capacity_seconds > 0:
                capacity = await web_phase(procs, clients, people, work, counties, args.capacity_seconds, 0)
        return steady, capacity
    finally:
        for c in clients.values():
            await c.aclose()


# -- the same calls, made directly -------------------------------------------------------------
class Direct:
    """What each route calls, with the route's arguments, in this process."""

    def __init__(self, engine, campaign: str, people: list[Person], now: datetime):
        from services.core.directory import actor, campaign_row
        from statemachine.time.calendar import WorkingCalendar

        self.engine, self.campaign, self.now = engine, campaign, now
        self.calendar = WorkingCalendar()
        with engine.connect() as conn:
            cid = campaign_row(conn, campaign).id
            self.actors = {p.username: actor(conn, cid, p.username) for p in people}

    def work(self, p: Person) -> None:  # app/web/pages/work.py work_page
        from services.work.mywork import my_work

        my_work(self.engine, self.campaign, self.actors[p.username], now=self.now)

    def clue(self, p: Person) -> None:  # app/web/pages/clues.py clue_page
        from services.campaigns.load import plan_of
        from services.core.actions import clue_actions
        from services.core.directory import campaign_row
        from services.evidence.files import list_evidence
        from services.work.mywork import deadline_colours
        from services.work.reading import readable_clue

        who = self.actors[p.username]
        view, unit = readable_clue(self.engine, self.campaign, p.rng.choice(p.readable), who)
        with self.engine.connect() as conn:
            plan_of(conn, campaign_row(conn, self.campaign).id)
        clue_actions(who, state=view.state, unit=unit, owner=view.owner, deadline_at=view.deadline_at, now=self.now)
        list_evidence(self.engine, self.campaign, owner_kind="clue", ref=view.number, actor=who.username)
        deadline_colours(self.engine, self.campaign, self.now)

    def list(self, p: Person, counties: list[str]) -> None:  # app/web/api/clues.py clues
        from services.clues.lifecycle import list_clues

        q = p.list_query(counties)
        list_clues(self.engine, self.campaign, unit=q.get("unit"), state=q.get("state"),
                   overdue_as_of=self.now if q.get("overdue") else None, limit=q["limit"] + 1,
                   offset=q["offset"], seen_by=self.actors[p.username])

    def transition(self, item: Item, trigger: str, p: Person) -> None:  # app/web/pages/clues.py clue_act
        from services.clues.lifecycle import ClueInput, transition

        form = STEP_FORMS[trigger]
        data = ClueInput(measures=form.get("measures"), owner=form.get("owner"), evidence=form.get("evidence"),
                         deadline=date.fromisoformat(form["deadline"]) if "deadline" in form else None)
        transition(self.engine, self.campaign, item.number, trigger, actor=p.username, now=self.now, data=data,
                   expected_version=item.version)


def direct_phase(procs: Processes, d: Direct, people: list[Person], work: Work, counties: list[str],
                 seconds: float, think: float) -> Stats:
    st = Stats()
    cpu = procs.sample()

    def user(p: Person) -> None:
        time.sleep(p.rng.uniform(0, think))
        while time.perf_counter() < deadline:
            kind = p.kind()
            taken = None
            if kind == "transition":
                taken = work.take(p)
                if taken is None:  # nothing left to move (counted; the run then fails)
                    time.sleep(pause(p, think) or 0.05)
                    continue
            t0 = time.perf_counter()
            try:
                if kind == "work":
                    d.work(p)
                elif kind == "clue":
                    d.clue(p)
                elif kind == "list":
                    d.list(p, counties)
                else:
                    d.transition(taken[0], taken[1], p)
            except Exception as e:  # noqa: BLE001 - counted and shown, as a web failure is
                st.fail(f"{kind}: {type(e).__name__}: {e}"[:200])
                continue
            st.add(kind, time.perf_counter() - t0)
            if taken:
                work.done(p, taken[0], taken[1])
            time.sleep(pause(p, think))

    st.started = time.perf_counter()
    deadline = st.started + seconds
    threads = [threading.Thread(target=user, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    st.ended = time.perf_counter()
    st.cpu = tuple(b - a for a, b in zip(cpu, procs.sample()))
    return st


# -- the run ----------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="PostgreSQL URL (default: a throwaway cluster)")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20, help="length of the web and of the direct run")
    ap.add_argument("--think", type=float, default=1.0, help="a person's mean pause between requests (s)")
    ap.add_argument("--capacity-seconds", type=float, default=10, help="runs without pauses (0: none)")
    ap.add_argument("--clues-per-county", type=int, default=300)
    ap.add_argument("--profile", metavar="FILE",
                    help="py-spy's samples of the web app while it is measured (pip install py-spy)")
    args = ap.parse_args()
    if args.users < 2 or args.seconds <= 0:
        sys.exit("bench: --users must be 2 or more and --seconds positive")

    with tempfile.TemporaryDirectory(prefix="rectify-bench-web-") as tmp, database_url(args.db) as url:
        from models.db import make_engine, normalize_url, upgrade

        home = Path(tmp)
        url = normalize_url(url)
        engine = make_engine(url)
        upgrade(engine)
        plan, counties = plan_with_people(args.users)
        t0 = time.perf_counter()
        seed(engine, plan, counties, args.clues_per_county)
        usernames = [p.username for p in plan.people if p.role in ("supervisor", "officer")]
        make_accounts(engine, plan.campaign.code, usernames)
        with engine.connect() as conn:
            n = dict(conn.exec_driver_sql("SELECT 'clues', count(*) FROM clues UNION ALL SELECT 'cases', "
                                          "count(*) FROM escalation_cases UNION ALL SELECT 'audit', count(*) "
                                          "FROM audit_log").all())
        print(f"{len(usernames)} people ({sum(p.role == 'supervisor' for p in plan.people)} supervisors), "
              f"{n['clues']:,} clues, {n['cases']} cases, {n['audit']:,} audit records on "
              f"{engine.dialect.name} in {time.perf_counter() - t0:.1f}s", flush=True)
        people, work = people_and_work(engine, plan, counties, usernames, seed_=14)

        with engine.connect() as conn:
            backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        postmaster = int(Path(f"/proc/{backend}/stat").read_text().rpartition(")")[2].split()[1])
        with served(url, home) as (base, server):
            web, web_cap = asyncio.run(web_run(base, Processes(server, postmaster), people, work, counties,
                                               args))
        show(f"web, {len(people)} users, pauses {args.think:g}s", web)
        if web_cap:
            show(f"web, {len(people)} users, no pauses", web_cap)

        d = Direct(engine, plan.campaign.code, people, at(NOW))
        for p in people:  # warm, as the web's run was
            d.clue(p)
        direct = direct_phase(Processes(None, postmaster), d, people, work, counties, args.seconds, args.think)
        show(f"direct, {len(people)} threads, pauses {args.think:g}s", direct)
        direct_cap = None
        if args.capacity_seconds > 0:
            direct_cap = direct_phase(Processes(None, postmaster), d, people, work, counties, args.capacity_seconds, 0)
            show(f"direct, {len(people)} threads, no pauses", direct_cap)
        engine.dispose()

    failed = sum(len(s.errors) for s in (web, web_cap, direct, direct_cap) if s)
    if failed or work.ran_dry:
        sys.exit(f"bench: {failed} requests failed, {work.ran_dry} transitions found no clue to move")
    w50, w99, d50 = pct(web.all, 50), pct(web.all, 99), pct(direct.all, 50)
    line = (f"web_p50_ms={w50:.1f} web_p99_ms={w99:.1f} rps={web.rps:.1f} direct_p50_ms={d50:.1f} "
            f"direct_p99_ms={pct(direct.all, 99):.1f} web_vs_direct={w50 / d50:.2f}")
    if web_cap and direct_cap:
        line += (f" capacity_rps={web_cap.rps:.1f} direct_capacity_rps={direct_cap.rps:.1f} "
                 f"capacity_ratio={web_cap.rps / direct_cap.rps:.2f}")
    print(line)


if __name__ == "__main__":
    main()
