import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="auditevent",
            options={"ordering": ["-seq"], "verbose_name": "审计事件", "verbose_name_plural": "审计事件"},
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(null=True, verbose_name="序号"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", max_length=64, verbose_name="前一条摘要"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="row_hash",
            field=models.CharField(default="", max_length=64, verbose_name="本条摘要"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="kind",
            field=models.CharField(
                choices=[("write", "数据变更"), ("access", "敏感访问"), ("auth", "登录认证"), ("export", "导出"),
                         ("policy", "权限与策略")],
                default="write", max_length=10, verbose_name="类别",
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="subject_type",
            field=models.CharField(blank=True, max_length=60, verbose_name="当事人类型"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="subject_id",
            field=models.CharField(blank=True, max_length=60, verbose_name="当事人编号"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="subject_label",
            field=models.CharField(blank=True, max_length=60, verbose_name="当事人"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="occurred_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="时间"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(
                blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+", to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
