from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class VerifyForm(forms.Form):
    """The QR code's link fills i, n and c; a reader types the number and code printed on the report; or
    the PDF is uploaded (its metadata carries the link)."""

    i = forms.CharField(max_length=18, required=False, widget=forms.HiddenInput)
    n = forms.CharField(label=_("report number"), max_length=60, required=False)
    c = forms.CharField(label=_("verification code"), max_length=22, required=False)
    pdf = forms.FileField(label=_("report PDF"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        by_code = data.get("n") and data.get("c")
        if not by_code and not data.get("pdf"):
            raise forms.ValidationError(_("Upload the report PDF, or give the report number and the verification "
                                          "code printed beside its QR code."))
        return data


class NotAcceptedForm(forms.Form):
    start = forms.DateTimeField(label=_("from"))
    end = forms.DateTimeField(label=_("until"), required=False)
    reason = forms.CharField(label=_("reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class EndNotAcceptedForm(forms.Form):
    end = forms.DateTimeField(label=_("until"))
    reason = forms.CharField(label=_("reason"), max_length=500)


class SigningKeyForm(forms.Form):
    """A signatory registers the certificate of the key its own LIMS signs registrations with."""

    name = forms.CharField(label=_("name"), max_length=100)
    certificate = forms.CharField(label=_("certificate (PEM)"), max_length=20000,
                                  widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}))
    password = forms.CharField(label=_("your password (electronic signature)"), max_length=200,
                               widget=forms.PasswordInput)


class RevokeKeyForm(forms.Form):
    key = forms.IntegerField(widget=forms.HiddenInput)
    password = forms.CharField(label=_("your password (electronic signature)"), max_length=200,
                               widget=forms.PasswordInput)
