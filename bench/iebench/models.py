"""The roster's columns as a plain model (no encryption, no blind indexes): what a "plain ModelResource on
an equivalent model" imports into. Plain text makes the comparison favour django-import-export."""

from __future__ import annotations

from django.db import models


class RosterPerson(models.Model):
    name = models.CharField(max_length=50)
    sex = models.CharField(max_length=4, blank=True)
    ethnic_group = models.CharField(max_length=20, blank=True)
    id_number = models.CharField(max_length=18, unique=True)
    phone = models.CharField(max_length=20, blank=True)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=20, blank=True)
    political_status = models.CharField(max_length=20, blank=True)
    education = models.CharField(max_length=20, blank=True)

    class Meta:
        app_label = "iebench"

    def __str__(self) -> str:
        return self.name
