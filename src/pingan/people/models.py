"""People and places (一人一档): persons, houses, occupancy, households, floating and overseas records.

Personal identifiers are stored SM4-GCM encrypted (``core.fields.EncryptedTextField``) with HMAC-SM3 blind
indexes for exact search and uniqueness:

- ``id_number_index``: the normalised ID number (purpose ``id_number``, shared with every table that holds
  ID numbers, so the same person is found everywhere). Unique: one record per person (一人一档).
- ``id_tail4_index`` / ``id_tail6_index``: blind indexes of the last 4 and last 6 characters, for the
  "search by the end of the ID number" that field staff use. Decision: a keyed index rather than a plain
  tail column. The last six characters are the day of birth, the sequence number and the check character:
  with a name and a birth year they nearly identify a person, and a database dump should not carry them.
  The index is useless without the server's index key. (Docs: docs/people.md.)
- ``phone_index`` (exact) and ``phone_tail_index`` (last 4 digits) likewise.

Names stay plain (they are searched by infix, pinyin and initials, and masked on display); the
household-register address is encrypted; a house's address is plain (it describes a place, and it is
what address search matches).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.fields import (
    BlindIndexField,
    EncryptedQuerySet,
    EncryptedTextField,
    normalize_id_number,
    normalize_phone,
)
from pingan.core.masking import mask_name
from pingan.core.models import TimeStamped
from pingan.core.sensitive import Sealable, SensitiveQuerySet


def id_tail4(value: str) -> str:
    """Normaliser of the ID tail index: the last 4 characters of the normalised number."""
    v = normalize_id_number(value)
    return v[-4:] if len(v) >= 4 else ""


def id_tail6(value: str) -> str:
    v = normalize_id_number(value)
    return v[-6:] if len(v) >= 6 else ""


def phone_tail4(value: str) -> str:
    v = normalize_phone(value)
    return v[-4:] if len(v) >= 4 else ""


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("在册")
    MOVED_OUT = "moved_out", _("已迁出")
    DECEASED = "deceased", _("已死亡")
    OTHER = "other", _("其他注销")


class House(TimeStamped):
    """A dwelling or premises with a standard address (标准地址): compound/road, building, unit, room."""

    class Use(models.TextChoices):
        RESIDENTIAL = "residential", _("自住")
        RENTAL = "rental", _("出租")
        COMMERCIAL = "commercial", _("商用")
        MIXED = "mixed", _("商住混用")
        VACANT = "vacant", _("空置")
        OTHER = "other", _("其他")

    area = models.ForeignKey(
        "areas.Area", verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(_("房屋编码"), max_length=40, null=True, blank=True, unique=True)
    compound = models.CharField(_("小区/道路"), max_length=80)
    building = models.CharField(_("楼栋"), max_length=20, blank=True)
    unit = models.CharField(_("单元"), max_length=20, blank=True)
    room = models.CharField(_("室号"), max_length=20, blank=True)
    address = models.CharField(_("标准地址"), max_length=200, editable=False, db_index=True)
    use = models.CharField(_("房屋用途"), max_length=20, choices=Use.choices, default=Use.RESIDENTIAL)
    floor_area = models.DecimalField(_("面积（㎡）"), max_digits=8, decimal_places=2, null=True, blank=True)
    owner = models.ForeignKey(
        "people.Person",
        verbose_name=_("产权人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_houses",
    )
    rented = models.BooleanField(_("出租房屋"), default=False)
    hazards = models.CharField(_("安全隐患"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["address"]
        constraints = [
            models.CheckConstraint(condition=~Q(compound=""), name="house_compound_not_blank"),
            models.CheckConstraint(
                condition=Q(floor_area__isnull=True) | Q(floor_area__gt=0), name="house_floor_area_positive"
            ),
            models.UniqueConstraint(
                fields=["area", "compound", "building", "unit", "room"], name="house_unique_address_in_area"
            ),
        ]

    def compose_address(self) -> str:
        parts = [self.compound]
        if self.building:
            parts.append(f"{self.building}号楼" if self.building.isdigit() else self.building)
        if self.unit:
            parts.append(f"{self.unit}单元" if self.unit.isdigit() else self.unit)
        if self.room:
            parts.append(f"{self.room}室" if self.room.isdigit() else self.room)
        return "".join(parts)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.address = self.compose_address()
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.address

    audit_public_fields = ("compound", "building", "unit", "room", "address", "use", "rented", "code")


# the fields a roster import compares (and digests): see people/importers.py
IMPORT_COMPARED = (
    "name",
    "sex",
    "birth_date",
    "ethnic_group",
    "phone",
    "registered_address",
    "current_address",
    "political_status",
    "education",
    "marital_status",
    "occupation",
    "remarks",
    "household_consistent",
    "is_registered",
    "is_floating",
    "is_overseas",
    "is_left_behind",
    "area_id",
    "area",
)


class PersonQuerySet(SensitiveQuerySet["Person"]):  # type: ignore[override]
    """``update()`` of a field the roster import compares forgets the import digest (the row may no longer
    hold what the last import wrote), so the next import compares that row field by field."""

    def update(self, **kwargs: Any) -> int:
        if "import_digest" not in kwargs and any(k in IMPORT_COMPARED for k in kwargs):
            kwargs["import_digest"] = ""
        return super().update(**kwargs)


PersonManager = models.Manager.from_queryset(PersonQuerySet)


class Person(Sealable, TimeStamped):
    """One record per person (一人一档)."""

    id_type = models.CharField(_("证件类型"), max_length=4, default="111")  # code table id_type
    id_number = EncryptedTextField(_("证件号码"), mask="id_number", blank=True)
    id_number_index = BlindIndexField(
        source="id_number", normalizer=normalize_id_number, purpose="id_number", db_index=False
    )
    id_tail4_index = BlindIndexField(source="id_number", normalizer=id_tail4, purpose="id_tail4")
    id_tail6_index = BlindIndexField(source="id_number", normalizer=id_tail6, purpose="id_tail6")
    name = models.CharField(_("姓名"), max_length=50)
    former_name = models.CharField(_("曾用名"), max_length=50, blank=True)
    name_pinyin = models.CharField(_("姓名拼音"), max_length=200, blank=True, editable=False, db_index=True)
    name_initials = models.CharField(
        _("拼音首字母"), max_length=50, blank=True, editable=False, db_index=True
    )
    sex = models.CharField(_("性别"), max_length=1, blank=True)  # code table sex
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    ethnic_group = models.CharField(_("民族"), max_length=4, blank=True)
    nationality = models.CharField(_("国籍"), max_length=4, default="CHN", blank=True)
    native_place = models.CharField(_("籍贯"), max_length=60, blank=True)
    political_status = models.CharField(_("政治面貌"), max_length=4, blank=True)
    education = models.CharField(_("文化程度"), max_length=4, blank=True)
    marital_status = models.CharField(_("婚姻状况"), max_length=4, blank=True)
    religion = models.CharField(_("宗教信仰"), max_length=4, blank=True)
    occupation = models.CharField(_("职业"), max_length=60, blank=True)
    workplace = models.CharField(_("服务处所"), max_length=120, blank=True)
    phone = EncryptedTextField(_("联系电话"), mask="phone", blank=True)
    phone_index = BlindIndexField(source="phone", normalizer=normalize_phone, purpose="phone")
    phone_tail_index = BlindIndexField(source="phone", normalizer=phone_tail4, purpose="phone_tail4")
    registered_address = EncryptedTextField(_("户籍地址"), mask="address", blank=True)
    current_address = EncryptedTextField(_("现住址"), mask="address", blank=True)
    current_house = models.ForeignKey(
        House,
        verbose_name=_("现住房屋"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="residents",
    )
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="+"
    )
    is_registered = models.BooleanField(_("户籍人口"), default=False)
    is_floating = models.BooleanField(_("流动人口"), default=False)
    is_overseas = models.BooleanField(_("境外人员"), default=False)
    is_left_behind = models.BooleanField(_("留守人员"), default=False)
    household_consistent = models.BooleanField(_("人户一致"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=PersonStatus.choices, default=PersonStatus.ACTIVE, editable=False
    )
    remarks = models.CharField(_("备注"), max_length=300, blank=True)
    # keyed digest (HMAC-SM3) of the values the last roster import wrote, with the columns it had; emptied by
    # any other write of those fields: an unchanged row of a re-imported file is recognised without
    # decrypting or comparing anything (people/importers.py)
    import_digest = models.CharField(max_length=64, blank=True, default="", editable=False)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并至"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = PersonManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["id_number_index"], name="person_unique_id_number"),
            models.CheckConstraint(condition=~Q(name=""), name="person_name_not_blank"),
            models.CheckConstraint(condition=Q(status__in=PersonStatus.values), name="person_status_valid"),
        ]
        indexes = [models.Index(fields=["area", "status"], name="person_area_status")]

    def __str__(self) -> str:
        return self.name

    def audit_repr(self) -> str:
        return mask_name(self.name)

    @property
    def categories(self) -> list[str]:
        """Codes of table person_category."""
        flags = (self.is_registered, self.is_floating, self.is_overseas, self.is_left_behind)
        return [code for code, on in zip(("1", "2", "3", "4"), flags, strict=True) if on]

    def save(self, *args: Any, **kwargs: Any) -> None:
        from pingan.people.pinyin import name_pinyin

        self.name_pinyin, self.name_initials = name_pinyin(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            update_fields = kwargs["update_fields"] = {*update_fields, "name_pinyin", "name_initials"}
        # a write other than the importer's: the next import compares this row field by field
        if update_fields is None or any(f in IMPORT_COMPARED for f in update_fields):
            self.import_digest = ""
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "import_digest"}
        super().save(*args, **kwargs)


class PersonStatusChange(models.Model):
    """The lifecycle history of a person (moved in, moved out, deceased, merged…)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12)
    event = models.CharField(_("事项"), max_length=30)  # register, move_in, move_out, decease, merge…
    note = models.CharField(_("说明"), max_length=300, blank=True)
    actor_username = models.CharField(_("操作人"), max_length=150)
    at = models.DateTimeField(_("时间"), auto_now_add=True)  # when it was recorded
    effective_on = models.DateField(_("生效日期"), null=True, blank=True)  # when it happened (moves)

    class Meta:
        verbose_name = _("人员状态变更")
        verbose_name_plural = _("人员状态变更")
        ordering = ["-at", "-pk"]

    EVENT_LABELS = {
        "register": _("登记"),
        "import": _("花名册导入"),
        "move_in": _("迁入"),
        "move_out": _("迁出"),
        "deceased": _("死亡注销"),
        "other": _("其他注销"),
        "merge": _("并入重复档案"),
        "merged": _("并入其他档案"),
    }

    def __str__(self) -> str:
        return f"{self.event}: {self.from_status} → {self.to_status}"

    @property
    def event_label(self) -> str:
        return str(self.EVENT_LABELS.get(self.event, self.event))

    @staticmethod
    def _status_label(value: str) -> str:
        return str(PersonStatus(value).label) if value in PersonStatus.values else value

    @property
    def from_label(self) -> str:
        return self._status_label(self.from_status)

    @property
    def to_label(self) -> str:
        return self._status_label(self.to_status)


class Occupancy(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("产权人")
        TENANT = "tenant", _("承租人")
        RESIDENT = "resident", _("居住人")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="occupancies")
    house = models.ForeignKey(House, on_delete=models.CASCADE, related_name="occupancies")
    role = models.CharField(_("居住关系"), max_length=10, choices=Role.choices, default=Role.RESIDENT)
    start = models.DateField(_("入住日期"), null=True, blank=True)
    end = models.DateField(_("迁出日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("居住关系")
        verbose_name_plural = _("居住关系")
        ordering = ["-start", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(start__isnull=True) | Q(end__gte=models.F("start")),
                name="occupancy_end_after_start",
            ),
            models.UniqueConstraint(
                fields=["person", "house"], condition=Q(end__isnull=True), name="occupancy_one_open_per_house"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.house_id} ({self.role})"


class Household(TimeStamped):
    """A household register (户): its number, householder and members with their relation codes."""

    area = models.ForeignKey(
        "areas.Area", verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(_("户号"), max_length=30, unique=True)
    householder = models.ForeignKey(
        Person, verbose_name=_("户主"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    house = models.ForeignKey(
        House,
        verbose_name=_("住址房屋"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="households",
    )

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        ordering = ["number"]
        constraints = [models.CheckConstraint(condition=~Q(number=""), name="household_number_not_blank")]

    def __str__(self) -> str:
        return self.number


class HouseholdMember(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="household_memberships")
    relation = models.CharField(_("与户主关系"), max_length=4)  # code table household_relation

    class Meta:
        verbose_name = _("户成员")
        verbose_name_plural = _("户成员")
        constraints = [
            models.UniqueConstraint(fields=["person"], name="household_member_one_household"),
            models.CheckConstraint(condition=~Q(relation=""), name="household_member_relation_required"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.person_id} ({self.relation})"


class FloatingRecord(TimeStamped):
    """Floating-population registration (流动人口登记) and residence permit (居住证)."""

    class PermitType(models.TextChoices):
        RESIDENCE_PERMIT = "residence", _("居住证")
        TEMPORARY = "temporary", _("暂住登记")
        NONE = "none", _("未办理")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="floating_records")
    permit_type = models.CharField(
        _("证件类别"), max_length=12, choices=PermitType.choices, default=PermitType.RESIDENCE_PERMIT
    )
    permit_number = EncryptedTextField(_("居住证号"), mask="generic", blank=True)
    valid_from = models.DateField(_("有效期起"), null=True, blank=True)
    valid_to = models.DateField(_("有效期至"), null=True, blank=True)
    inflow_reason = models.CharField(_("流入原因"), max_length=60, blank=True)
    registered_on = models.DateField(_("登记日期"), null=True, blank=True)
    last_verified_on = models.DateField(_("最近核查日期"), null=True, blank=True)
    landlord = models.ForeignKey(
        Person, verbose_name=_("房东"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = EncryptedQuerySet.as_manager()

    class Meta:
        verbose_name = _("流动人口登记")
        verbose_name_plural = _("流动人口登记")
        ordering = ["-registered_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="floating_valid_to_after_from",
            ),
        ]


class OverseasRecord(TimeStamped):
    """A foreigner or resident from Hong Kong, Macao or Taiwan (境外人员)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="overseas_records")
    nationality = models.CharField(_("国籍/地区"), max_length=4)
    foreign_surname = models.CharField(_("外文姓"), max_length=60, blank=True)
    foreign_given_name = models.CharField(_("外文名"), max_length=80, blank=True)
    document_number = EncryptedTextField(_("护照/通行证号"), mask="generic", blank=True)
    visa_type = models.CharField(_("签证/签注类型"), max_length=40, blank=True)
    entry_date = models.DateField(_("入境日期"), null=True, blank=True)
    stay_until = models.DateField(_("停留有效期至"), null=True, blank=True)
    expected_departure = models.DateField(_("预计离开日期"), null=True, blank=True)
    purpose = models.CharField(_("来华事由"), max_length=60, blank=True)

    objects = EncryptedQuerySet.as_manager()

    class Meta:
        verbose_name = _("境外人员登记")
        verbose_name_plural = _("境外人员登记")
        ordering = ["-entry_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_departure__isnull=True)
                | Q(entry_date__isnull=True)
                | Q(expected_departure__gte=models.F("entry_date")),
                name="overseas_departure_after_entry",
            ),
        ]


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("处理中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ImportJob(TimeStamped):
    """A large roster (more than ``PINGAN_IMPORT_SYNC_MAX_ROWS`` rows) previewed or imported by the worker
    (``importers.run_import_job``) while its page shows the progress. The file and the result (its errors
    quote the rows) are stored SM4-GCM encrypted; only the user who uploaded it sees the job."""

    user = models.ForeignKey(
        "accounts.User", verbose_name=_("导入人"), on_delete=models.PROTECT, related_name="people_import_jobs"
    )
    filename = models.CharField(_("文件名"), max_length=200)
    content = EncryptedTextField(_("文件"), blank=True, default="")  # base64 of the file; emptied when done
    dry_run = models.BooleanField(_("仅预览"), default=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    total_rows = models.PositiveIntegerField(_("行数"), default=0)
    done_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    result = EncryptedTextField(_("结果"), blank=True, default="")  # JSON: PeopleImportResult.as_dict()
    error = models.CharField(_("失败原因"), max_length=500, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    preview_of = models.ForeignKey(
        "self", verbose_name=_("预览任务"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("花名册导入任务")
        verbose_name_plural = verbose_name
        ordering = ("-pk",)

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"
