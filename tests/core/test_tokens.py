"""API tokens: issued and revoked on the user's own page or the command line, expiring, last use shown,
every issue and revocation in the audit trail; and the user's own password change, audited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from opentic.core.models import ApiToken, AuditEvent
from tests.conftest import PASSWORD, World

API = "/api/lims/samples"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.django_db
def test_a_user_issues_uses_and_revokes_a_token_on_their_page(world: World) -> None:
    client = world.client("a_analyst")
    page = client.post("/account/tokens/", {"name": "仪器工作站"}).content.decode()
    token = re.search(r"<code>(otk_[\w-]+)</code>", page)
    assert token is not None
    plain = token.group(1)
    record = ApiToken.objects.get(user=world.a_analyst)
    assert record.digest == ApiToken.hash(plain) and plain not in (record.digest, record.prefix)
    listed = client.get("/account/tokens/").content.decode()
    assert plain not in listed
    assert f"{record.prefix}…" in listed and "从未使用" in listed  # shown once
    anonymous = world.client("anonymous")
    assert anonymous.get(API, headers=_bearer(plain)).status_code == 200
    record.refresh_from_db()
    assert record.last_used_at is not None
    shown = f"{timezone.localtime(record.last_used_at):%Y年%-m月%-d日 %H:%M}"
    assert shown in client.get("/account/tokens/").content.decode()
    client.post(f"/account/tokens/{record.pk}/revoke/")
    assert anonymous.get(API, headers=_bearer(plain)).status_code == 401
    issued, revoked = (AuditEvent.objects.get(action=a, entity="core.ApiToken")
                       for a in ("token-issue", "token-revoke"))
    assert issued.actor == world.a_analyst and issued.changes["prefix"] == record.prefix
    assert revoked.actor == world.a_analyst and issued.chain == revoked.chain == f"institution:{world.lab_a.pk}"


@pytest.mark.django_db
def test_an_expired_token_no_longer_authenticates(world: World) -> None:
    client = world.client("a_analyst")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    page = client.post("/account/tokens/", {"name": "短期", "expires_on": tomorrow.isoformat()}).content.decode()
    plain = re.search(r"<code>(otk_[\w-]+)</code>", page).group(1)  # type: ignore[union-attr]
    anonymous = world.client("anonymous")
    assert anonymous.get(API, headers=_bearer(plain)).status_code == 200
    ApiToken.objects.filter(user=world.a_analyst).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert anonymous.get(API, headers=_bearer(plain)).status_code == 401
    assert "已过期" in client.get("/account/tokens/").content.decode()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    refused = client.post("/account/tokens/", {"name": "过去", "expires_on": yesterday.isoformat()})
    assert refused.status_code == 422 and ApiToken.objects.filter(user=world.a_analyst).count() == 1


@pytest.mark.django_db
def test_nobody_revokes_or_sees_another_persons_token(world: World) -> None:
    world.client("a_admin").post("/account/tokens/", {"name": "LIMS 接口"})
    token = ApiToken.objects.get(user=world.a_admin)
    for persona in ("b_admin", "a_analyst", "regulator", "platform_admin"):
        client = world.client(persona)
        assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
        assert token.prefix not in client.get("/account/tokens/").content.decode()
    assert world.client("anonymous").post(f"/account/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.django_db
def test_the_command_line_issues_with_expiry_and_revokes(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("token", "a-analyst", "夜间导入", "--expires", "30")
    plain = capsys.readouterr().out.strip()
    record = ApiToken.objects.get(digest=ApiToken.hash(plain))
    assert record.expires_at is not None
    assert abs(record.expires_at - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(minutes=1)
    call_command("token", "a-analyst", "到年底", "--expires", f"{timezone.localdate().year + 1}-12-31")
    capsys.readouterr()
    with pytest.raises(CommandError, match="days or a date"):
        call_command("token", "a-analyst", "x", "--expires", "soon")
    call_command("token", "a-analyst", "--revoke", plain[:8])
    assert "revoked" in capsys.readouterr().out
    record.refresh_from_db()
    assert record.revoked_at is not None
    assert world.client("anonymous").get(API, headers=_bearer(plain)).status_code == 401
    assert AuditEvent.objects.filter(action="token-revoke", actor__isnull=True, reason="command line").count() == 1
    assert AuditEvent.objects.filter(action="token-issue").count() == 2
    with pytest.raises(CommandError, match="has no token"):
        call_command("token", "b-admin", "--revoke", plain[:8])  # another user's token


@pytest.mark.django_db
def test_a_user_changes_their_own_password(world: World) -> None:
    client = world.client("a_reviewer")
    assert "修改密码" in client.get("/account/password/").content.decode()
    wrong = client.post("/account/password/", {"old_password": "wrong", "new_password1": "Chongqing-2027-lab",
                                                "new_password2": "Chongqing-2027-lab"})
    assert wrong.status_code == 200 and "旧密码" in wrong.content.decode()
    done = client.post("/account/password/", {"old_password": PASSWORD, "new_password1": "Chongqing-2027-lab",
                                               "new_password2": "Chongqing-2027-lab"})
    assert done.status_code == 302 and done["Location"].endswith("/account/password/done/")
    world.a_reviewer.refresh_from_db()
    assert world.a_reviewer.check_password("Chongqing-2027-lab")
    assert client.get("/account/tokens/").status_code == 200  # still signed in (session hash updated)
    event = AuditEvent.objects.get(action="password-change")
    assert event.actor == world.a_reviewer and "Chongqing" not in str(event.changes)
