"""A plain ``ModelResource`` over the roster's columns (``use_bulk=True``): the grid by its code through a
ForeignKeyWidget, upsert by ID number."""

from __future__ import annotations

from import_export import fields, resources, widgets

from bench.iebench.models import RosterPerson
from pingan.areas.models import Area


class RosterResource(resources.ModelResource):
    name = fields.Field(attribute="name", column_name="姓名")
    sex = fields.Field(attribute="sex", column_name="性别")
    ethnic_group = fields.Field(attribute="ethnic_group", column_name="民族")
    id_number = fields.Field(attribute="id_number", column_name="公民身份号码")
    phone = fields.Field(attribute="phone", column_name="联系电话")
    area = fields.Field(
        attribute="area", column_name="所属网格", widget=widgets.ForeignKeyWidget(Area, "code")
    )
    category = fields.Field(attribute="category", column_name="人员类别")
    political_status = fields.Field(attribute="political_status", column_name="政治面貌")
    education = fields.Field(attribute="education", column_name="文化程度")

    class Meta:
        model = RosterPerson
        import_id_fields = ("id_number",)
        fields = ("name", "sex", "ethnic_group", "id_number", "phone", "area", "category", "political_status",
                  "education")  # fmt: skip
        use_bulk = True
        batch_size = 2000
        skip_unchanged = True
        report_skipped = False
