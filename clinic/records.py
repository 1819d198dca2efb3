"""Clinical records are never overwritten or deleted (DESIGN.md, "Data
rules"): a correction is a new row that points to the one it corrects, with
who, when and why. Models of such records inherit `AppendOnlyRecord`."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

MSG_APPEND_ONLY = _("A clinical record cannot be changed or deleted: record a correction instead.")


class AppendOnlyRecord(models.Model):
    """Written once. `save()` refuses an existing row and `delete()` refuses
    always (foreign keys to it use PROTECT, so a cascade cannot remove it
    either); `QuerySet.update()` is the services' business and is never used
    on these tables."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(MSG_APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(MSG_APPEND_ONLY)
