"""Demo cases of released persons (order 60, after people): in 滦水里社区 (挂甲寺街: the demo
assistance officer assist1 works them and gets their reminders; community1 sees none) and in 粤江里社区
(东海街, another street), so the cross-jurisdiction gate has rows on both sides.

The persons are synthetic demo residents (people/demo.py): nothing here looks like real personal data.
Each community gets cases in every state: a pending hand-over before release, an unreceived one after
release (flagged), a key person (必接必送) received, cases under assistance with group members, visits
(one overdue, one due soon), resettlement, help (necessities and a one-off hardship grant), one
re-offence, and one period ending within 30 days. Dates are offsets from today, so the worklists and
reminders have something to show; choices come from ``ctx.rng``. Idempotent: a person who already has a
case is left alone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from pingan.aftercare.models import (
    AftercareCase,
    Aid,
    AidKind,
    CaseStatus,
    GroupMember,
    Handover,
    HandoverStatus,
    Reoffence,
    Resettlement,
    RiskLevel,
    Visit,
)
from pingan.aftercare.services import default_assistance_end
from pingan.areas.models import Area
from pingan.core.demo import DemoContext

COMMUNITIES = ("滦水里社区", "粤江里社区")
OFFENCES = ("0502", "0503", "0402", "0601", "0604", "0203", "0501", "0303")
PRISONS = ("天津市示例监狱", "天津市示例第二监狱", "示例省某监狱")

# (release offset in days from today, handover, status, resettlement, key person, visits, aid, reoffence)
PLAN = (
    (20, "pending", "pending", "", True, 0, False, False),
    (-12, "pending", "pending", "", False, 0, False, False),
    (-400, "received", "assisting", "employment", True, 3, True, False),
    (-200, "received", "assisting", "self_employment", False, 2, False, False),
    (-90, "received", "assisting", "none", False, 1, True, False),
    (-1815, "received", "assisting", "relief", False, 2, False, False),  # period ends within 30 days
    (-700, "received", "reoffended", "employment", False, 2, False, True),
    (-40, "not_received", "pending", "", False, 0, False, False),
)


def load_aftercare(ctx: DemoContext) -> None:
    rng = ctx.rng
    today = timezone.localdate()
    created = 0
    for community_name in COMMUNITIES:
        community = Area.objects.filter(name=community_name, level="community").order_by("code").first()
        if community is None:
            continue
        from pingan.people.models import Person

        people = list(
            Person.objects.filter(
                area__code__startswith=community.code,
                birth_date__lte=today - dt.timedelta(days=365 * 25),
                birth_date__gte=today - dt.timedelta(days=365 * 65),
                merged_into__isnull=True,
            )
            .select_related("area")
            .order_by("area__code", "id_number_index")[: len(PLAN)]
        )
        for person, plan in zip(people, PLAN, strict=False):
            offset, handover_status, status, resettlement, key, visits, aid, reoffence = plan
            offence = OFFENCES[rng.randrange(len(OFFENCES))]
            prison = PRISONS[rng.randrange(len(PRISONS))]
            risk = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH)[rng.randrange(3)]
            months = rng.choice((8, 14, 24, 36, 60))
            if AftercareCase._base_manager.filter(person=person).exists():
                continue
            release = today + dt.timedelta(days=offset)
            case = AftercareCase.objects.create(
                person=person,
                area=person.area,
                offence=offence,
                sentence=f"有期徒刑{months}个月",
                sentence_months=months,
                prison=prison,
                release_date=release,
                is_recidivist=offset == -700,
                risk_level=risk,
                is_key_person=key,
                assistance_end=default_assistance_end(release),
                status=status,
                resettlement=resettlement,
                resettlement_detail="示例单位" if resettlement in ("employment", "self_employment") else "",
                unresettled_reason="正在联系就业岗位" if resettlement == Resettlement.NONE else "",
                resettled_on=release + dt.timedelta(days=30) if resettlement not in ("", "none") else None,
                remarks="演示数据",
            )
            Handover.objects.create(
                case=case,
                expected_release_date=release,
                must_meet=key,
                status=handover_status,
                received_on=release if handover_status == HandoverStatus.RECEIVED else None,
                met_at_release=key and handover_status == HandoverStatus.RECEIVED,
                not_received_on=release + dt.timedelta(days=5) if handover_status == "not_received" else None,
                not_received_reason="未按时报到，正在联系家属" if handover_status == "not_received" else "",
                source="演示预释放名单",
            )
            created += 1
            if status in (CaseStatus.ASSISTING, CaseStatus.REOFFENDED):
                GroupMember.objects.create(
                    case=case, role="cadre", name=f"社区干部示例{created}", unit=community.name
                )
                GroupMember.objects.create(
                    case=case, role="police", name=f"民警示例{created}", unit="示例派出所"
                )
                GroupMember.objects.create(case=case, role="family", name=f"家属示例{created}", unit="亲属")
            for k in range(visits):
                # visits every 45 days up to about three weeks ago, each naming the next one; the last visit
                # of one case is overdue (next date 4 days ago), of another due in 3 days
                last = k == visits - 1
                anchor = release + dt.timedelta(days=290) if reoffence else today  # no visits after it
                visited = anchor - dt.timedelta(days=20 + 45 * (visits - 1 - k))
                nxt = visited + dt.timedelta(days=45 if not last else 60)
                if last and offset == -90:
                    visited, nxt = today - dt.timedelta(days=34), today - dt.timedelta(days=4)
                elif last and offset == -200:
                    visited, nxt = today - dt.timedelta(days=27), today + dt.timedelta(days=3)
                if visited < release:
                    continue
                Visit.objects.create(
                    case=case,
                    visited_on=visited,
                    visitors="社区干部、民警",
                    content="了解生活和就业情况，家属配合，情绪稳定（演示数据）",
                    next_visit_on=nxt,
                    recorded_by="system",
                )
            if aid:
                Aid.objects.create(
                    case=case,
                    kind=AidKind.NECESSITIES,
                    items="米、面、油",
                    disbursed_on=release + dt.timedelta(days=7),
                    recorded_by="system",
                )
                Aid.objects.create(
                    case=case,
                    kind=AidKind.HARDSHIP_GRANT,
                    amount=Decimal(rng.choice(("1000.00", "1500.00", "2000.00"))),
                    approver="街道司法所示例",
                    disbursed_on=release + dt.timedelta(days=14),
                    recorded_by="system",
                )
            if reoffence:
                Reoffence.objects.create(
                    case=case,
                    offence_date=release + dt.timedelta(days=300),
                    offence="0502",
                    note="演示数据",
                    recorded_by="system",
                )
    ctx.counts["aftercare_cases_created"] = created
    ctx.log(f"aftercare: {created} cases created")
