"""A person's own account: their API tokens (list, issue, revoke) and their password. Both audited."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from opentic.core import audit
from opentic.core.feedback import refused
from opentic.core.http import AuthenticatedHttpRequest
from opentic.core.models import ApiToken
from opentic.core.tokens import MAX_DAYS, issue_token, revoke_token


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("what it is for"), max_length=100)
    expires_on = forms.DateField(label=gettext_lazy("last day it works (empty: until revoked)"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))

    def clean_expires_on(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("expires_on")
        today = timezone.localdate()
        if day is not None and not today <= day <= today + dt.timedelta(days=MAX_DAYS):
            raise ValidationError(gettext_lazy("Choose a day from today to ten years ahead."))
        return day


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


@login_required
def tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's tokens with their state and last use; a new one is shown once, on this response only."""
    form = TokenForm(request.POST or None)
    issued = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            day = form.cleaned_data["expires_on"]
            try:
                _token, issued = issue_token(request.user, form.cleaned_data["name"],
                                             _end_of(day) if day else None, actor=request.user)
                form = TokenForm()
            except ValidationError as exc:
                refused(request, exc)
                status = 422
        else:
            status = 422
    now = timezone.now()
    rows = [{"token": t, "active": t.is_active(now),
             "state": (pgettext("token", "revoked") if t.revoked_at else pgettext("token", "expired")
                       if not t.is_active(now) else pgettext("token", "active"))}
            for t in ApiToken.objects.filter(user=request.user).order_by("-created_at")]
    return render(request, "core/account/tokens.html", {"form": form, "rows": rows, "issued": issued},
                  status=status)


@login_required
@require_POST
def revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)  # another person's token: 404
    revoke_token(request.user, token)
    messages.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.prefix})
    return redirect("core:tokens")


class PasswordChange(auth_views.PasswordChangeView):
    """Django's password change (old password, new twice, the validators), in the site's template, audited."""

    template_name = "core/account/password_change_form.html"  # not registration/: the admin's would win
    success_url = reverse_lazy("core:password_change_done")

    @transaction.atomic
    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.user
        audit.record(actor=user, action="password-change", entity=user, institution_id=user.institution_id)
        return response
