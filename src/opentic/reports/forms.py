"""Every POST of the report pages goes through one of these forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PasswordForm(forms.Form):
    """The electronic signature: the password re-entered, meaning "approved" or "withdrawn"."""

    password = forms.CharField(label=_("password"), max_length=128, strip=False)


class ApproveForm(PasswordForm):
    replaces = forms.IntegerField(required=False, min_value=1)
    reason = forms.CharField(label=_("reason for the amendment"), max_length=500, required=False)


class WithdrawForm(PasswordForm):
    reason = forms.CharField(label=_("reason for the withdrawal"), max_length=500)


class ImageForm(forms.Form):
    """An uploaded PNG (seal or signature); its content is checked by the service, with Pillow."""

    image = forms.FileField(label=_("image (PNG)"))

    def __init__(self, field: str, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields[field] = self.fields.pop("image")
