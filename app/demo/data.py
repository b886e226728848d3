"""Realistic, fictional material for the demo: clues from the seeds' channels and
aspects, and a script of what each unit does when. Pure and seeded."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from statemachine.plan import Plan

__all__ = ["Scripted", "Step", "UnitPace", "person", "script_campaign"]

# Problem descriptions in the words of the central office's bulletin (seed 003, 附件1)
SUMMARIES = {
    "profit": ["对符合免罚条件的轻微交通违法行为仍予罚款", "治超站违规收取“月票”后放行超限车辆",
               "路边违规设置微型测速摄像机抓拍", "下达非法营运处罚数额指标，每起不低于1.5万元",
               "执法数量考核导致单日同类处罚异常集中"],
    "nonstandard": ["同类超载违法处罚金额相差较大", "在服务区临时设点拦断主线引导车辆受检",
                    "超期扣押车辆并停放社会停车场收取高额停车费", "随意变更违法行为定性降格处罚",
                    "升降限高设施未设警示标志影响货车通行"],
    "rigid": ["对私家车同乘一律认定为非法营运", "节假日集中查处、事后松懈的运动式执法",
              "对同一当事人同一地点连续多次处罚", "机械适用禁令标志抓拍未进站车辆"],
    "rough": ["执法人员对当事人态度生硬、言语恐吓", "未告知当事人陈述申辩权利即作出处罚",
              "对出示电子驾照的驾驶人以未出示证件处罚", "只罚款不卸载，违法状态未消除即放行"],
    "rent_seeking": ["执法人员收受好处费后私放超限车辆", "辅助人员与“黄牛”勾结提供勤务信息",
                     "货车通行证只能线下办理，非法中介代办收费", "办理人情案，擅自降低处罚标准"],
    "public_concern": ["群众诉求答复不准确、不细致", "违法违规限制货车通行未设绕行方案",
                       "12328热线反映的问题长期未办结"],
    "duty_failure": ["执法人员被借调，执法岗位长期空缺", "对道路运输违法线索排查不积极"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉红梅文斌宇浩凯健俊帆帅旭宁龙林欣晨瑞雪婷琳颖倩"
CHANNELS = [("12345", 24), ("12328", 18), ("信访投诉", 10), ("新闻媒体", 3), ("门户网站/微信", 8),
            ("行政复议", 3), ("行政诉讼", 2), ("案卷评查", 6), ("暗访", 4), ("随机抽查", 4),
            ("上级交办", 3)]


@dataclass(frozen=True)
class Step:
    day: date
    trigger: str
    params: dict = field(default_factory=dict)


@dataclass
class Scripted:
    """One clue: when it arrives and what happens to it afterwards."""

    unit: str
    channel: str
    aspect: str
    summary: str
    reporter: str | None
    phone: str | None
    arrives: date
    steps: list[Step]
    number: str | None = None
    ref: str | None = None  # 工单号 of a hotline work order (12345, 12328)


@dataclass(frozen=True)
class UnitPace:
    code: str
    lag_days: int          # how late (negative: early) stage work is done
    verify_days: tuple[int, int]
    fix_slip: tuple[int, int]  # evidence relative to the rectification deadline
    stall: float = 0.0         # share of substantiated clues left without evidence ("躺平")


def person(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return name, f"1380000{rng.randrange(10000):04d}"


def _paces(units: list[str], rng: random.Random) -> dict[str, UnitPace]:
    paces = {}
    laggards = set(rng.sample(units, k=max(1, len(units) // 5)))
    for code in units:
        if code in laggards:  # "躺平式": late on everything
            paces[code] = UnitPace(code, rng.randint(4, 20), (8, 20), (3, 45), stall=0.3)
        else:
            paces[code] = UnitPace(code, rng.randint(-6, -1), (1, 6), (-12, 2))
    return paces


def _fate(rng: random.Random, arrives: date, pace: UnitPace, end: date, owner: str) -> list[Step]:
    d = arrives + timedelta(days=rng.randint(*pace.verify_days))
    steps = [Step(d, "verify")]
    roll = rng.random()
    d += timedelta(days=rng.randint(2, 8))
    if roll < 0.18:
        return steps + [Step(d, "dismiss", {"reason": "经核查，反映问题查无实据，已向反映人反馈"})]
    if roll < 0.21:
        return steps + [Step(d, "transfer", {"reason": "涉及公职人员违纪线索，移交纪检监察机关"})]
    # within the plan's 30 working days (docs/domain.md §5.7): 40 calendar days always are, in 2023
    deadline = d + timedelta(days=min(rng.randint(15, 50), 40))
    steps.append(Step(d, "substantiate", {"measures": "立行立改，建立整改台账，完善执法制度",
                                         "deadline": deadline, "owner": owner}))
    if roll < 0.27:
        return steps + [Step(deadline - timedelta(days=3), "defer", {
            "stage_result": "已完成阶段性整改", "long_term_measure": "纳入执法规范化长效机制持续推进"})]
    if rng.random() < pace.stall:
        return steps
    submit = deadline + timedelta(days=rng.randint(*pace.fix_slip))
    steps.append(Step(submit, "submit_evidence", {"evidence": "整改报告及佐证材料"}))
    if rng.random() < 0.12:
        back = submit + timedelta(days=rng.randint(2, 6))
        steps.append(Step(back, "reject", {"reason": "整改佐证材料不充分，退回补充"}))
        submit = back + timedelta(days=rng.randint(3, 12))
        steps.append(Step(submit, "submit_evidence", {"evidence": "补充佐证材料"}))
    steps.append(Step(submit + timedelta(days=rng.randint(1, 6)), "approve"))
    return [s for s in steps if s.day <= end]


def script_campaign(plan: Plan, *, n: int, rng: random.Random) -> tuple[list[Scripted], dict[str, UnitPace]]:
    units = [u.code for u in plan.participants()]
    weights = [3 if i < 3 else 1 for i in range(len(units))]  # a few big counties
    paces = _paces(units, rng)
    start, end = plan.campaign.period.start, plan.campaign.period.end
    self_stage = next((s for s in plan.stages if "自查" in s.name or s.key == "self_check"), plan.stages[0])
    channels, cweights = zip(*CHANNELS)
    aspects = [a.key for a in plan.aspects]
    out = []
    for i in range(n):
        unit = rng.choices(units, weights)[0]
        self_found = rng.random() < 0.35
        if self_found:  # 自查自纠 items surface during the self-inspection stage
            lo, hi = (self_stage.start or start), (self_stage.end or end)
            channel, reporter, phone = "自查自纠", None, None
        else:
            lo, hi = start, end - timedelta(days=12)
            channel = rng.choices(channels, cweights)[0]
            reporter, phone = person(rng) if channel in ("12345", "12328", "信访投诉") else (None, None)
        arrives = lo + timedelta(days=int(rng.triangular(0, (hi - lo).days, (hi - lo).days * 0.2)))
        aspect = rng.choice(aspects)
        summary = rng.choice(SUMMARIES.get(aspect, SUMMARIES["public_concern"]))
        owner, _ = person(rng)
        out.append(Scripted(unit, channel, aspect, summary, reporter, phone, arrives,
                            _fate(rng, arrives, paces[unit], end, owner),
                            ref=f"{channel}-{arrives:%Y%m%d}-{i + 1:04d}" if channel in ("12345", "12328") else None))
    return out, paces
