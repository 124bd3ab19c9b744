"""Demo correction clients (order 60, after people): six in 滦水里社区 (community1's area, 挂甲寺街) and
six in 粤江里社区 (community2's area, 东海街), so that the cross-jurisdiction gate has rows on both sides.

They are demo residents (synthetic names and ID numbers from people/demo.py) with fixed dates (no clock):
one not reported after the 10-day deadline (漏管), one reported late, active clients with check-ins, visits,
a group and a plan, a pending leave request, one terminated (期满解除). Correction numbers ``DEMO-JZ-…``.
Idempotent: a client whose number exists is left alone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pingan.areas.models import Area, subtree_q
from pingan.core.demo import DemoContext
from pingan.correction.models import (
    CheckIn,
    ClientStatus,
    CorrectionClient,
    GroupMember,
    LeaveRequest,
    ServiceHours,
    SupervisionPlan,
    Termination,
    Visit,
)
from pingan.people.models import Person

COMMUNITIES = ("滦水里社区", "粤江里社区")
OFFENCES = ("盗窃罪", "危险驾驶罪", "诈骗罪", "故意伤害罪", "交通肇事罪", "寻衅滋事罪")
# (category, judgment effective, reported (None = not yet), end, status)
PLAN = (
    ("2", dt.date(2026, 3, 2), dt.date(2026, 3, 6), dt.date(2028, 3, 1), ClientStatus.ACTIVE),
    ("3", dt.date(2026, 5, 11), dt.date(2026, 5, 15), dt.date(2027, 5, 10), ClientStatus.ACTIVE),
    ("1", dt.date(2026, 7, 20), dt.date(2026, 8, 5), dt.date(2027, 7, 19), ClientStatus.ACTIVE),  # late
    ("4", dt.date(2026, 11, 2), None, dt.date(2027, 11, 1), ClientStatus.PENDING),  # 漏管
    ("2", dt.date(2024, 6, 3), dt.date(2024, 6, 7), dt.date(2026, 6, 2), ClientStatus.TERMINATED),
    ("2", dt.date(2025, 12, 15), dt.date(2025, 12, 18), dt.date(2026, 12, 20), ClientStatus.ACTIVE),
)


def load_correction(ctx: DemoContext) -> None:
    created = 0
    for c_index, community_name in enumerate(COMMUNITIES):
        community = Area.objects.filter(
            name=community_name, level="community", code__startswith="120103"
        ).first()
        if community is None:
            continue
        people = list(
            Person._base_manager.filter(
                area__in=Area.objects.filter(subtree_q(community.code)),
                birth_date__lte=dt.date(2000, 1, 1),
                birth_date__gte=dt.date(1960, 1, 1),
                sealed=False,
            ).order_by("pk")[: len(PLAN) * 3 : 3]
        )
        for n, (person, plan) in enumerate(zip(people, PLAN, strict=False)):
            number = f"DEMO-JZ-{c_index + 1}{n + 1:03d}"
            if CorrectionClient._base_manager.filter(number=number).exists():
                continue
            if (
                CorrectionClient._base_manager.filter(person=person)
                .exclude(status=ClientStatus.TERMINATED)
                .exists()
            ):
                continue
            category, effective, reported, end, status = plan
            client = CorrectionClient(
                person=person,
                area=person.area,
                number=number,
                category=category,
                offence=OFFENCES[n % len(OFFENCES)],
                sentence="有期徒刑一年，缓刑二年" if category == "2" else "有期徒刑二年",
                sentence_months=24 if category == "2" else 12,
                start_date=effective,
                end_date=end,
                authority="天津市河西区人民法院",
                judgment_effective_date=effective,
                reported_on=reported,
                status=status,
                checkin_every_days=30,
                visit_every_days=30,
            )
            if status == ClientStatus.TERMINATED:
                client.termination, client.termination_date = Termination.COMPLETED, end
                client.termination_note = "矫正期满，依法解除"
            client.save()
            created += 1
            if reported is None:
                continue
            last_checkin = last_visit = reported
            day = reported + dt.timedelta(days=28)
            k = 0
            while day <= min(end, dt.date(2026, 11, 20)):
                CheckIn.objects.create(
                    client=client,
                    date=day,
                    kind=CheckIn.Kind.IN_PERSON if k % 2 == 0 else CheckIn.Kind.PHONE,
                    content="思想稳定，按要求报告",
                    due_on=last_checkin + dt.timedelta(days=30),
                    on_time=day <= last_checkin + dt.timedelta(days=30),
                    created_by="demo",
                )
                last_checkin = day
                if k % 2 == 1:
                    Visit.objects.create(
                        client=client,
                        date=day + dt.timedelta(days=2),
                        visitors="司法所工作人员、社区民警",
                        content="走访家庭，了解生活和就业情况",
                        due_on=last_visit + dt.timedelta(days=30),
                        on_time=day + dt.timedelta(days=2) <= last_visit + dt.timedelta(days=30),
                        created_by="demo",
                    )
                    last_visit = day + dt.timedelta(days=2)
                day += dt.timedelta(days=28 + (k % 3) * 3)
                k += 1
            if status == ClientStatus.ACTIVE:
                client.next_checkin_due = last_checkin + dt.timedelta(days=30)
                client.next_visit_due = last_visit + dt.timedelta(days=30)
                client.save(update_fields=["next_checkin_due", "next_visit_due"])
            GroupMember.objects.create(
                client=client,
                name="司法所示例干部",
                kind="judicial",
                unit="挂甲寺街司法所" if c_index == 0 else "东海街司法所",
                created_by="demo",
            )
            GroupMember.objects.create(
                client=client, name="社区示例民警", kind="police", unit="派出所", created_by="demo"
            )
            SupervisionPlan.objects.create(
                client=client,
                level=SupervisionPlan.Level.NORMAL,
                content="每月当面报告一次；每月走访一次；每月参加教育学习不少于8小时、公益活动不少于8小时。",
                checkin_every_days=30,
                visit_every_days=30,
                effective_from=reported,
                created_by="demo",
            )
            ServiceHours.objects.create(
                client=client,
                kind="education",
                date=reported + dt.timedelta(days=10),
                hours=Decimal("8.0"),
                content="法治教育课程",
                created_by="demo",
            )
            ServiceHours.objects.create(
                client=client,
                kind="community_service",
                date=reported + dt.timedelta(days=20),
                hours=Decimal("8.0"),
                content="社区环境整治",
                created_by="demo",
            )
            if n == 0:
                LeaveRequest.objects.create(
                    client=client,
                    kind=LeaveRequest.Kind.TRAVEL,
                    destination="北京市",
                    reason="探望住院的母亲",
                    start=dt.date(2026, 12, 10),
                    end=dt.date(2026, 12, 14),
                    created_by="demo",
                )
    ctx.counts["correction_clients_created"] = created
    ctx.log(f"correction: {created} clients created")
