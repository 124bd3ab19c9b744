"""Every read of people and places, scoped to the user (``scoped_visible``: scope + sealed records hidden).

Search shapes (``person_search_q``):

- 18 or 15 characters that parse as an ID number → exact match through the blind index;
- 4 or 6 digits (or 5 digits + X…): the end of the ID number through the tail indexes, and for 4 digits
  also the end of the phone number;
- 11 digits starting with 1 → the phone number (exact, blind index);
- latin letters → full pinyin prefix (``zhangs``) or initials prefix (``zs``);
- anything else → infix of the name or former name, or (from 2 characters) of the current house's address
  (among the houses in the user's jurisdiction).

A search lists its matches newest first (``SEARCH_ORDER``) and pages its first 100 (``person_pages``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Count, F, Q, QuerySet
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from pingan.accounts.roles import Role
from pingan.core.fields import BlindIndexField, lookup_value
from pingan.core.pagination import CappedPaginator, FirstMatchesPaginator
from pingan.core.sensitive import scoped_visible
from pingan.core.validators import parse_id_number
from pingan.people.models import (
    FloatingRecord,
    House,
    Household,
    HouseholdMember,
    Occupancy,
    OverseasRecord,
    Person,
    PersonStatus,
)

_TAIL = re.compile(r"^\d{3,5}[\dXx]$")
_LATIN = re.compile(r"^[A-Za-z]+$")
NOTHING = Q(pk__in=[])
HOUSE_IDS = 2000  # an address matching more houses than this is searched through a subquery, not a list


def _may_view(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("people.view_people"))


def _index(field_name: str, value: str) -> str | None:
    field = Person._meta.get_field(field_name)
    assert isinstance(field, BlindIndexField)
    return field.index_for(value)


def _search_parts(q: str) -> tuple[Q, str]:
    """The condition of one search text without its address part, and the text to look for in addresses
    ("" when the shape is not one an address is searched for: numbers, pinyin, one character)."""
    from pingan.people.services import clean_text

    q = clean_text(q)
    text = q.replace(" ", "")
    if not text:
        return Q(), ""
    upper = text.upper()
    if len(upper) in (15, 18) and upper[:-1].isdigit():
        try:
            number = parse_id_number(upper).number
        except Exception:
            return NOTHING, ""
        return Q(id_number_index=lookup_value(Person, "id_number", number)), ""
    if _TAIL.match(text) and len(text) in (4, 6):
        name = f"id_tail{len(text)}_index"
        cond = Q(**{name: _index(name, upper)})
        if len(text) == 4 and text.isdigit():
            cond |= Q(phone_tail_index=_index("phone_tail_index", text))
        return cond, ""
    if text.isdigit() and len(text) == 11 and text.startswith("1"):
        return Q(phone_index=lookup_value(Person, "phone", text)), ""
    if _LATIN.match(text):
        lower = text.lower()
        return Q(name_pinyin__startswith=lower) | Q(name_initials__startswith=lower), ""
    term = q.strip()
    if _pairs_apply(term):  # the characters-and-pairs column (migrations 0005, 0007)
        name_q = _grams_q("name_grams", term)
    else:
        name_q = Q(name__contains=term) | Q(former_name__contains=term)
    # addresses from 2 characters: a single character is in thousands of addresses (陈 in every house of
    # 陈塘庄) and says nothing of a place
    return name_q, term if len(term) > 1 else ""


def _matching_houses(term: str, houses: QuerySet[House] | None) -> QuerySet[House]:
    return (House.objects.all() if houses is None else houses).filter(address_q(term))


def person_search_q(q: str, houses: QuerySet[House] | None = None) -> Q:
    """The filter for one search text (see the module docstring). An address is looked for among
    ``houses`` (the houses in the searching user's jurisdiction; every house when None)."""
    cond, term = _search_parts(q)
    if not term:
        return cond
    # the houses whose address matches, as a list of ids: "current_house_id IN (…)" can be OR-ed with the
    # name conditions through indexes (a condition on the joined house table cannot)
    matching = _matching_houses(term, houses)
    found = list(matching.values_list("pk", flat=True)[: HOUSE_IDS + 1])
    if len(found) > HOUSE_IDS:  # a compound's name: thousands of houses, as a subquery (a hashed set)
        house_q = Q(current_house_id__in=matching.values("pk"))
    else:
        house_q = Q(current_house_id__in=found) if found else NOTHING
    return cond | house_q


@dataclass(frozen=True)
class SearchBranch:
    """One way a person matches a search text, and the order its first matches are best read in."""

    q: Q
    order: tuple[Any, ...]


def person_search_branches(q: str, houses: QuerySet[House] | None = None) -> list[SearchBranch]:
    """``person_search_q`` as its parts, each read on its own (``person_pages``; the OR of their ``q`` is
    ``person_search_q``), every part's matches newest first.

    An address is the reason. Its people are a few thousand scattered over the whole list (the 6,300 of
    a compound's 1,584 houses among a million): one query for "name or address", newest first, walks the
    list until it has 101 of them (30,000 rows, 9–14 ms, plus 2,000 house ids to send). Apart, the name is
    a lookup in its index, and the houses' people are read all at once from the house index without the
    table (migration 0010: 2–3 ms), then the newest 101 of them taken. Where the houses are more than
    ``HOUSE_IDS`` their people are common enough for the walk to find 101 soon: one part, as before."""
    cond, term = _search_parts(q)
    if not term:
        return [SearchBranch(cond, SEARCH_ORDER)]
    matching = _matching_houses(term, houses)
    in_houses = Q(current_house_id__in=matching.values("pk"))
    if matching[: HOUSE_IDS + 1].count() > HOUSE_IDS:
        # one walk for both: inside the OR the houses are a hashed set read once (alone, PostgreSQL joins
        # them row by row: 7,000 house lookups, 30 ms)
        return [SearchBranch(cond | in_houses, SEARCH_ORDER)]
    # ordered by an expression, the newest-first walk of the primary key is not a plan: the houses' people
    # are collected through the house index, then sorted (the same order as SEARCH_ORDER)
    return [SearchBranch(cond, SEARCH_ORDER), SearchBranch(in_houses, ((F("pk") + 0).desc(),))]


def _pairs_apply(term: str) -> bool:
    """A 1–2 character term without spaces on PostgreSQL: searched through the stored characters-and-pairs
    columns (no trigram index can serve it; the infix ``LIKE`` elsewhere finds the same rows)."""
    return len(term) <= 2 and " " not in term and connection.vendor == "postgresql"


def address_q(term: str) -> Q:
    """Houses whose address contains ``term``: 1–2 characters through the stored pairs column on PostgreSQL
    (no trigram index can serve them: a scan of every house otherwise), longer terms through the trigram
    index."""
    if _pairs_apply(term):
        return _grams_q("address_grams", term)
    return Q(address__contains=term)


class GramsContain(Expression):
    """``<table>.<grams column> @> ARRAY[term]``: the same rows as an infix match of a 1–2 character term
    (the columns hold ``people_grams(name || ' ' || former_name)`` and ``people_grams(address)``, with GIN
    indexes: migrations 0005 and 0007, PostgreSQL only; they are not model fields). The table is the
    query's own, by its alias: inside a subquery Django renames it (``U0``) and this follows."""

    output_field = BooleanField()

    def __init__(self, column: str, term: str, alias: str | None = None) -> None:
        super().__init__()
        self.column, self.term, self.alias = column, term, alias

    def resolve_expression(self, query: Any = None, *args: Any, **kwargs: Any) -> GramsContain:
        return GramsContain(self.column, self.term, query.get_initial_alias())

    def relabeled_clone(self, change_map: Mapping[str, str]) -> GramsContain:
        assert self.alias is not None
        return GramsContain(self.column, self.term, change_map.get(self.alias, self.alias))

    def get_group_by_cols(self) -> list[Any]:
        return []

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        assert self.alias is not None
        quote = compiler.quote_name_unless_alias
        return f"{quote(self.alias)}.{connection.ops.quote_name(self.column)} @> %s", ([self.term],)


def _grams_q(column: str, term: str) -> Q:
    """Rows whose stored grams column (``name_grams`` of people, ``address_grams`` of houses) holds the
    1–2 character ``term``."""
    assert column in ("name_grams", "address_grams")  # constants of this module, never user input
    return Q(GramsContain(column, term))


# A search's matches, newest records first. Not by name: a common surname matches 9 % of a district, and
# the first page by name means sorting every match (210 ms for "王" among 1M people); newest first, the
# primary key is walked backwards until the page is full (1 ms), and a rare name is found through its index
# and its few matches sorted. (Names sort by code point here, which no user reads as an order anyway.)
SEARCH_ORDER = ("-pk",)


@dataclass
class PersonFilter:
    q: str = ""
    area_id: int | None = None
    status: str = ""  # "" = active only; "all"
    category: str = ""  # registered | floating | overseas | left_behind
    sex: str = ""
    house_id: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PersonFilter:
        def as_int(key: str) -> int | None:
            value = str(params.get(key) or "").strip()
            return int(value) if value.isdigit() else None

        return cls(
            q=str(params.get("q") or "")[:60],
            area_id=as_int("area"),
            status=str(params.get("status") or ""),
            category=str(params.get("category") or ""),
            sex=str(params.get("sex") or ""),
            house_id=as_int("house"),
        )

    @property
    def searching(self) -> bool:
        return bool(self.q.strip())

    def apply(self, qs: QuerySet[Person], houses: QuerySet[House] | None = None) -> QuerySet[Person]:
        """``houses``: where an address search looks (``person_search_q``)."""
        if self.searching:
            qs = qs.filter(person_search_q(self.q, houses)).order_by(*SEARCH_ORDER)
        if self.area_id:
            from pingan.areas.models import within_area

            qs = within_area(qs, self.area_id)
        if self.status == "all":
            pass
        elif self.status in PersonStatus.values:
            qs = qs.filter(status=self.status)
        else:
            qs = qs.filter(status=PersonStatus.ACTIVE)
        flags = {
            "registered": "is_registered",
            "floating": "is_floating",
            "overseas": "is_overseas",
            "left_behind": "is_left_behind",
        }
        if self.category in flags:
            qs = qs.filter(**{flags[self.category]: True})
        if self.sex in ("0", "1", "2", "9"):
            qs = qs.filter(sex=self.sex)
        if self.house_id:
            qs = qs.filter(current_house_id=self.house_id)
        return qs


def person_list(
    *, user: Any, filters: PersonFilter | None = None, reason: str | None = None
) -> QuerySet[Person]:
    """People in the user's scope (sealed records only with the sealed grant and a reason), merged-away
    duplicates excluded."""
    if not _may_view(user):
        return Person.objects.none()
    qs = scoped_visible(Person.objects.filter(merged_into__isnull=True), user, reason)
    qs = qs.select_related("area", "current_house")
    filters = filters or PersonFilter()
    # an address is looked for among the user's houses (only a search needs them)
    houses = _scoped(user, House.objects.all()) if filters.searching else None
    return filters.apply(qs, houses=houses)


def person_pages(*, user: Any, filters: PersonFilter, per_page: int | None = None) -> CappedPaginator:
    """The list page's pages: a search reads its first 100 matches in one query
    (``FirstMatchesPaginator``, newest first); the roster without a search counts up to 10,000 and is read
    by name (``CappedPaginator``)."""
    per_page = per_page or PAGE_SIZE
    if not filters.searching:
        return CappedPaginator(person_list(user=user, filters=filters).only(*LIST_COLUMNS), per_page)
    # the matches' ids from each part of the search (person_search_branches), merged newest first; the
    # page's rows by id from the list without the search condition, which need not be evaluated again
    rows = person_list(user=user, filters=replace(filters, q="")).only(*LIST_COLUMNS)
    houses = _scoped(user, House.objects.all())
    branches = [rows.filter(b.q).order_by(*b.order) for b in person_search_branches(filters.q, houses)]
    paginator = FirstMatchesPaginator(rows, per_page, branches=branches)
    if len(branches) > 1:  # an address's houses: their people collected through the house index
        with _serial_plans():
            paginator.count  # noqa: B018 — the ids, read now, under _serial_plans
    return paginator


@contextmanager
def _serial_plans() -> Iterator[None]:
    """PostgreSQL: no parallel workers for the queries inside. Starting one costs 3–5 ms, which a search
    answered from an index in 2–3 ms does not win back; the planner starts one for the people of 2,000
    houses (9–12 ms instead of 3). Only here: the figures' large aggregates keep them."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield


PAGE_SIZE = 50

# What a list row shows (people/person_list.html): two of the four encrypted fields are decrypted, not four
LIST_COLUMNS = (
    "name",
    "id_number",
    "phone",
    "status",
    "sealed",
    "area__name",
    "current_house__address",
    "current_address",  # shown (masked) when no house is linked: an address typed in or imported
)


def person_get(*, user: Any, person_id: int, audit: bool = True, reason: str | None = None) -> Person:
    """One person (404 when missing or outside the user's sight). Opening a person's page is an access
    event (``audit=True``)."""
    if not _may_view(user) and not getattr(user, "is_admin_role", False):
        raise_404()
    if getattr(user, "is_authenticated", False):
        qs = scoped_visible(Person.objects.all(), user, reason)
    else:  # the command-line SYSTEM actor
        qs = Person.objects.all()
    person = get_object_or_404(qs.select_related("area", "current_house"), pk=person_id)
    if audit:
        from django.db import transaction

        from pingan.audit.services import audit_access

        with transaction.atomic():
            audit_access(actor=user, obj=person, purpose="view")
    return person


def raise_404() -> None:
    from django.http import Http404

    raise Http404


def person_history(*, person: Person) -> QuerySet[Any]:
    return person.status_changes.all()


def person_duplicates(*, user: Any, person: Person) -> QuerySet[Person]:
    """Possible duplicates of a person without an ID number (or of anyone): same name and birth date, or
    same name in the same house."""
    cond = Q(pk__in=[])
    if person.birth_date:
        cond |= Q(birth_date=person.birth_date)
    if person.current_house_id:
        cond |= Q(current_house_id=person.current_house_id)
    return (
        person_list(user=user, filters=PersonFilter(status="all"))
        .filter(cond, name=person.name)
        .exclude(pk=person.pk)
    )


def _scoped(user: Any, qs: QuerySet[Any]) -> QuerySet[Any]:
    from pingan.accounts.selectors import user_scope

    if not getattr(user, "is_authenticated", False) and getattr(user, "is_admin_role", False):
        return qs  # SYSTEM
    if not _may_view(user):
        return qs.none()
    return user_scope(user).filter(qs, "area")


def house_list(*, user: Any, q: str = "", area_id: int | None = None) -> QuerySet[House]:
    from pingan.people.services import clean_text

    qs = _scoped(user, House.objects.select_related("area", "owner"))
    q = clean_text(q)
    if q:
        qs = qs.filter(address_q(q) | Q(code__startswith=q))
    if area_id:
        qs = qs.filter(area_id=area_id)
    return qs


def house_get(*, user: Any, house_id: int) -> House:
    return get_object_or_404(house_list(user=user), pk=house_id)


def house_residents(*, user: Any, house: House) -> QuerySet[Person]:
    return person_list(user=user, filters=PersonFilter(house_id=house.pk))


def household_list(
    *, user: Any, number: str = "", area_id: int | None = None, householder: str = ""
) -> QuerySet[Household]:
    """Households in the user's scope; ``number``: part of the 户号; ``area_id``: in that area's subtree;
    ``householder``: the householder found as the person list's search finds people (name, pinyin, ID
    number or its tail, phone…), among the people the user may see."""
    from pingan.areas.models import within_area
    from pingan.people.services import clean_text

    qs = _scoped(user, Household.objects.select_related("area", "householder", "house"))
    number = clean_text(number).replace(" ", "")
    if number:
        qs = qs.filter(number__contains=number)
    if householder.strip():
        found = person_list(user=user, filters=PersonFilter(q=householder.strip(), status="all"))
        qs = qs.filter(householder__in=found.order_by().values("pk"))
    return within_area(qs, area_id) if area_id else qs


class HouseholdPaginator(CappedPaginator):
    """The household list's pages: each row of a page also gets ``member_count`` (its members the user may
    see) and ``householder_name`` (the householder's name when the user may see them, else ""), read for
    the page's rows in two queries (no query per row)."""

    def __init__(self, object_list: Any, per_page: int, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.user = user

    def _rows(self, bottom: int, top: int) -> list[Any]:
        from django.db.models import Count

        rows = super()._rows(bottom, top)
        if not rows:
            return rows
        visible = person_list(user=self.user, filters=PersonFilter(status="all"))
        counts = dict(
            HouseholdMember.objects.filter(
                household__in=[r.pk for r in rows], person__in=visible.values("pk")
            )
            .order_by()
            .values("household")
            .annotate(n=Count("pk"))
            .values_list("household", "n")
        )
        heads = {r.householder_id for r in rows if r.householder_id}
        names = dict(visible.filter(pk__in=heads).values_list("pk", "name")) if heads else {}
        for row in rows:
            row.member_count = counts.get(row.pk, 0)
            row.householder_name = names.get(row.householder_id, "")
        return rows


def household_pages(
    *,
    user: Any,
    number: str = "",
    area_id: int | None = None,
    householder: str = "",
    per_page: int | None = None,
) -> HouseholdPaginator:
    """The household list page (户号 order), counted up to ``CappedPaginator.CAP``."""
    qs = household_list(user=user, number=number, area_id=area_id, householder=householder)
    qs = qs.select_related(None)
    qs = qs.select_related("area", "house").order_by("number", "pk")
    return HouseholdPaginator(qs, per_page or PAGE_SIZE, user=user)


def household_get(*, user: Any, household_id: int) -> Household:
    return get_object_or_404(household_list(user=user), pk=household_id)


def household_members(*, user: Any, household: Household) -> list[Any]:
    visible = set(person_list(user=user, filters=PersonFilter(status="all")).values_list("pk", flat=True))
    return [m for m in household.members.select_related("person") if m.person_id in visible]


def person_household(*, user: Any, person: Person) -> HouseholdMember | None:
    """The person's household membership, when the household lies in the user's scope."""
    households = household_list(user=user)
    return (
        HouseholdMember.objects.select_related("household")
        .filter(person=person, household__in=households.values("pk"))
        .first()
    )


def house_occupancies(*, user: Any, house: House) -> QuerySet[Occupancy]:
    """Who lives or lived in a house (people the user may see), open ones first."""
    return (
        Occupancy.objects.filter(house=house, person__in=_visible_ids(user))
        .select_related("person")
        .order_by(F("end").desc(nulls_first=True), "-start", "-pk")
    )


def _visible_ids(user: Any) -> QuerySet[Person, Any]:
    """The ids of the people the user may see, moved-away and deceased included (for their records)."""
    return person_list(user=user, filters=PersonFilter(status="all")).values("pk")


def occupancy_list(*, user: Any, current: bool = False) -> QuerySet[Occupancy]:
    """Occupancies whose house and person the user may both see (``current``: not ended), newest first."""
    qs = Occupancy.objects.select_related("house", "person").filter(
        house__in=house_list(user=user).values("pk"), person__in=_visible_ids(user)
    )
    if current:
        qs = qs.filter(end__isnull=True)
    return qs.order_by("-pk")


def occupancy_get(*, user: Any, occupancy_id: int) -> Occupancy:
    """One occupancy whose house and person the user may see (404 otherwise)."""
    return get_object_or_404(occupancy_list(user=user), pk=occupancy_id)


def floating_list(*, user: Any, valid_to_before: dt.date | None = None) -> QuerySet[FloatingRecord]:
    """Floating-population records of people the user may see, newest registration first;
    ``valid_to_before``: permits that end before that day (ended ones included)."""
    qs = FloatingRecord.objects.select_related("person", "landlord").filter(person__in=_visible_ids(user))
    if valid_to_before is not None:
        qs = qs.filter(valid_to__lt=valid_to_before)
    return qs.order_by(F("registered_on").desc(nulls_last=True), "-pk")


def floating_get(*, user: Any, record_id: int) -> FloatingRecord:
    return get_object_or_404(floating_list(user=user), pk=record_id)


# --- reminders of floating-population work (the worker's notifications, the 流动人口提醒 page) ---------


def permit_reminder_days() -> int:
    return int(getattr(settings, "PINGAN_PERMIT_REMINDER_DAYS", 30))


def reverify_days() -> int:
    return int(getattr(settings, "PINGAN_FLOATING_REVERIFY_DAYS", 180))


def expiring_permits(today: dt.date) -> QuerySet[FloatingRecord]:
    """Records whose residence permit ends within ``permit_reminder_days()`` (from today on), of registered
    people (not sealed, not merged)."""
    return FloatingRecord.objects.filter(
        valid_to__gte=today,
        valid_to__lte=today + dt.timedelta(days=permit_reminder_days()),
        person__status=PersonStatus.ACTIVE,
        person__sealed=False,
        person__merged_into__isnull=True,
    ).select_related("person", "person__area")


def overdue_verifications(today: dt.date) -> QuerySet[FloatingRecord]:
    """Records of floating residents not re-verified (last verification, else registration) for
    ``reverify_days()``."""
    limit = today - dt.timedelta(days=reverify_days())
    return FloatingRecord.objects.filter(
        Q(last_verified_on__lt=limit) | Q(last_verified_on__isnull=True, registered_on__lt=limit),
        person__status=PersonStatus.ACTIVE,
        person__is_floating=True,
        person__sealed=False,
        person__merged_into__isnull=True,
    ).select_related("person", "person__area")


REMINDER_KINDS = ("expiring", "reverify")
# who sees the reminders' totals on the home page: those who renew and re-verify, in a community or a grid
# (a district's totals are on the reminders page, counted per grid)
REMINDER_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.POLICE})


def floating_reminders(
    *, user: Any, kind: str, today: dt.date, area_id: int | None = None
) -> QuerySet[FloatingRecord]:
    """The records of one reminder ``kind`` (``expiring``: the nearest end first; ``reverify``: the longest
    unverified first) among the people the user may see, in area ``area_id``'s subtree when given."""
    if kind == "expiring":
        qs = expiring_permits(today).order_by("valid_to", "pk")
    elif kind == "reverify":
        last = Coalesce("last_verified_on", "registered_on")
        qs = overdue_verifications(today).order_by(last.asc(nulls_first=True), "pk")
    else:
        raise ValueError(kind)
    from pingan.areas.models import within_area

    if not _may_view(user):
        return qs.none()
    # the scope on the person's grid: the rules above already leave out sealed and merged people, so this is
    # the set of person__in=_visible_ids(user) without a semi-join over every visible person (district-wide
    # counts at 1M people: 461 → 271 ms, docs/benchmarks.md)
    qs = scoped_visible(qs, user, area_field="person__area")
    return within_area(qs, area_id, "person__area") if area_id else qs


def floating_reminder_counts(*, user: Any, today: dt.date) -> list[dict[str, Any]]:
    """Per grid in the user's sight that has any: ``{"area": Area, "expiring": n, "reverify": n}``."""
    from pingan.areas.models import Area

    counts: dict[int, dict[str, Any]] = {}
    for kind in REMINDER_KINDS:
        rows = (
            floating_reminders(user=user, kind=kind, today=today)
            .order_by()
            .values("person__area")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            counts.setdefault(row["person__area"], {"expiring": 0, "reverify": 0})[kind] = row["n"]
    areas = Area.objects.in_bulk(list(counts))
    return sorted(
        ({"area": areas[pk], **n} for pk, n in counts.items() if pk in areas), key=lambda r: r["area"].code
    )


def overseas_list(*, user: Any, departure_before: dt.date | None = None) -> QuerySet[OverseasRecord]:
    """Overseas records of people the user may see, latest entry first; ``departure_before``: expected to
    leave before that day."""
    qs = OverseasRecord.objects.select_related("person").filter(person__in=_visible_ids(user))
    if departure_before is not None:
        qs = qs.filter(expected_departure__lt=departure_before)
    return qs.order_by(F("entry_date").desc(nulls_last=True), "-pk")


def overseas_get(*, user: Any, record_id: int) -> OverseasRecord:
    return get_object_or_404(overseas_list(user=user), pk=record_id)


def person_pick(*, user: Any, text: str) -> Person | None:
    """The one person in the user's sight that ``text`` names: a full ID number (exact, blind index) or an
    archive number (the record id, ``#123`` or ``123``). None when there is no such person in sight."""
    from pingan.people.services import clean_text

    text = clean_text(text).replace(" ", "").lstrip("#")
    if not text:
        return None
    qs = person_list(user=user, filters=PersonFilter(status="all"))
    if len(text) in (15, 18) and text[:-1].isdigit():
        return qs.filter(person_search_q(text)).first()
    if text.isdigit() and len(text) <= 12:
        return qs.filter(pk=int(text)).first()
    return None


def house_pick(*, user: Any, text: str) -> House | None:
    """The house in the user's scope named by its code (房屋编码) or its record id."""
    from pingan.people.services import clean_text

    text = clean_text(text).lstrip("#")
    if not text:
        return None
    qs = house_list(user=user)
    found = qs.filter(code=text).first()
    if found is None and text.isdigit() and len(text) <= 12:
        found = qs.filter(pk=int(text)).first()
    return found


def person_candidates(*, user: Any, q: str, limit: int = 10) -> list[Person]:
    """People in sight matching a search text (the list's search shapes), for the pickers of the forms."""
    q = (q or "").strip()[:60]
    if len(q) < 2:
        return []
    return list(person_list(user=user, filters=PersonFilter(q=q))[:limit])


# --- home figures and global search ---------------------------------------------------------------


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def people_figures(user: Any) -> list[Any]:
    from django.db.models import Count
    from django.utils.translation import gettext_lazy as _

    from pingan.core.selectors import Figure

    if not _may_view(user):
        return []
    counts = (
        person_list(user=user)
        .order_by()
        .aggregate(residents=Count("id"), floating=Count("id", filter=Q(is_floating=True)))
    )
    url = _url("people:list")
    figures = [
        Figure(_("实有人口"), counts["residents"], url=url),
        Figure(_("流动人口"), counts["floating"], url=f"{url}?category=floating" if url else ""),
        Figure(_("实有房屋"), house_list(user=user).count(), url=_url("people:houses")),
    ]
    if str(getattr(user, "role", "")) in REMINDER_ROLES:
        today = timezone.localdate()
        reminders = _url("people:floating_reminders")
        labels = {"expiring": _("居住证即将到期"), "reverify": _("流动人口待核查")}
        figures += [
            Figure(
                labels[kind],
                floating_reminders(user=user, kind=kind, today=today).order_by().count(),
                url=f"{reminders}?kind={kind}" if reminders else "",
            )
            for kind in REMINDER_KINDS
        ]
    return figures


def people_search(user: Any, q: str, limit: int) -> list[Any]:
    from pingan.core.masking import mask_id_number, mask_name
    from pingan.core.search import SearchHit

    if not _may_view(user) or not q.strip():
        return []
    hits = []
    for p in person_list(user=user, filters=PersonFilter(q=q, status="all"))[:limit]:
        hits.append(
            SearchHit(
                kind="人员",
                title=mask_name(p.name),
                detail=f"{mask_id_number(p.id_number)} · {p.area.name}",
                url=_url("people:detail", p.pk),
            )
        )
    return hits
