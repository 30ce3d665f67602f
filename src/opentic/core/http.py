"""The request type of pages and endpoints that only signed-in users reach (as healthchecks does).

`login_required` and the API's authentication guarantee that request.user is a User, not AnonymousUser;
annotating such views with AuthenticatedHttpRequest says so to the type checker, so services that take a
User are called without casts or ignores."""

from __future__ import annotations

from django.http import HttpRequest

from opentic.core.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
