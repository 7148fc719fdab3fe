"""Simulated 执法监督 (enforcement supervision) cases, for demos (`casestream simulate`): 考评
reviews with their 评查意见 and score, 执法监督书 issued to a department, and 不予处罚 decisions
from the case-handling system with their 公示, mostly within the 7 working days, some late, a
few never, a few withdrawn later.

A 执法监督书's rectification is opened by casestream itself; the simulation leaves it to the
staff, so its notices stay 整改中."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from casestream.domain import catalog as ev
from casestream.domain.catalog import ExemptionType, OpinionCategory

if TYPE_CHECKING:
    from .simulation import _Timeline

REVIEWERS = ("法制大队 张敏", "法制大队 李强", "法制大队 王静")
CASE_SUBJECTS = ("无证经营", "违规停车", "噪音扰民", "未按规定登记住宿旅客", "殴打他人")
# 评查意见 as a county's reviews find them: procedure and evidence most, property least
OPINIONS = (
    (OpinionCategory.procedure, "未依法告知陈述、申辩权利", 5),
    (OpinionCategory.evidence, "现场照片未标注时间、地点", 4),
    (OpinionCategory.documents, "文书文号、日期填写不规范", 4),
    (OpinionCategory.facts, "违法事实认定依据不充分", 2),
    (OpinionCategory.law, "引用法条款项不准确", 2),
    (OpinionCategory.discretion, "裁量理由未说明", 2),
    (OpinionCategory.property, "扣押物品清单未经当事人签字", 1),
    (OpinionCategory.other, "卷宗装订顺序不规范", 1),
)
MATTERS = ("规范告知程序", "完善证据收集", "规范文书制作", "统一裁量标准", "整改涉案财物管理")
GROUNDS = (
    (ExemptionType.minor, "《行政处罚法》第三十三条第一款", 5),
    (ExemptionType.first_offence, "《行政处罚法》第三十三条第一款", 4),
    (ExemptionType.no_fault, "《行政处罚法》第三十三条第二款", 1),
    (ExemptionType.other, "《行政处罚法》第三十条", 1),
)
PLATFORMS = ("县政府门户网站", "行政执法公示平台")


def review(t: _Timeline, department: str, number: int) -> None:
    """A 考评 review: 0 to 4 opinions, then a score that falls with them."""
    rng = t.rng
    opened = ev.EnforcementReviewOpened(
        decision_ref=f"公(治)行罚决字〔2026〕{number}号",
        department=department,
        reviewer=rng.choice(REVIEWERS),
        subject=rng.choice(CASE_SUBJECTS),
    )
    if not t.add(opened, after_days=0):
        return
    found = rng.choices(OPINIONS, weights=[weight for *_, weight in OPINIONS], k=rng.randrange(5))
    for category, text, _ in found:
        if not t.add(ev.ReviewOpinionIssued(category=category, text=text), after_days=3):
            return
    score = max(60, rng.randrange(88, 100) - 4 * len(found))
    t.add(ev.EnforcementReviewCompleted(score=score, summary="评查完毕"), after_days=5)


def notice(t: _Timeline, department: str, number: int) -> None:
    """A 执法监督书 with one to three matters, due in three to six weeks."""
    rng = t.rng
    t.add(
        ev.EnforcementNoticeIssued(
            notice_no=f"公法监〔2026〕{number}号",
            department=department,
            decision_ref=f"公(治)行罚决字〔2026〕{number}号",
            matters=rng.sample(MATTERS, rng.randrange(1, 4)),
            deadline=t.at.date() + timedelta(days=rng.randrange(21, 43)),
        ),
        after_days=0,
    )


def decision(t: _Timeline, department: str, number: int) -> None:
    """A 不予处罚 decision and its 公示: on time for most, late for some (7 working days are
    about 9 calendar days), never for a few; a few publications withdrawn a month on."""
    rng = t.rng
    ground, basis, _ = rng.choices(GROUNDS, weights=[weight for *_, weight in GROUNDS])[0]
    recorded = ev.EnforcementDecisionRecorded(
        decision_ref=f"公(治)不罚决字〔2026〕{number}号",
        exemption=ground,
        legal_basis=basis,
        decided_on=t.at.date(),
        department=department,
        subject=rng.choice(CASE_SUBJECTS),
    )
    if not t.add(recorded, after_days=0):
        return
    roll = rng.random()
    if roll < 0.08:
        return  # never published
    published = ev.EnforcementDecisionPublished(platform=rng.choice(PLATFORMS))
    if not t.add(published, after_days=8 if roll < 0.85 else 25):
        return
    if rng.random() < 0.1:
        t.add(ev.EnforcementDecisionPublicationWithdrawn(reason="公示期满"), after_days=40)
