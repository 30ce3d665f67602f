"""Issue 12, finding 4: sign-in and e-signatures lock after repeated wrong passwords; failures are audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from opentic.core import lockout
from opentic.core.models import AuditEvent
from tests.conftest import PASSWORD, World


def attempt(client: Client, path: str, username: str, password: str, ip: str = "203.0.113.7") -> int:
    response = client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)
    return response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_a_hundred_wrong_passwords_lock_the_account(world: World, path: str) -> None:
    client = Client()
    username = world.platform_admin.username  # staff, so /admin/login/ would let it in
    codes = [attempt(client, path, username, f"guess-{n}") for n in range(100)]
    assert codes[0] == 200  # the form again, with its error
    assert codes[-1] == 429
    assert attempt(client, path, username, PASSWORD) == 429  # the right password, refused while locked
    assert "_auth_user_id" not in client.session
    response = client.post(path, {"username": username, "password": PASSWORD}, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 429  # the account is locked, from any address
    assert "密码" in response.content.decode()  # our page, in Chinese, saying why
    failed = AuditEvent.objects.filter(action="login-failed", entity_id=username)
    assert failed.count() >= 5
    assert failed.first().changes["ip"] == "203.0.113.7"  # type: ignore[union-attr]
    assert AuditEvent.objects.filter(action="login-locked").exists()


@pytest.mark.django_db
def test_one_client_guessing_many_accounts_is_locked(world: World) -> None:
    client = Client()
    for n in range(6):
        attempt(client, "/login/", f"nobody-{n}", "guess")
    assert attempt(client, "/login/", world.a_analyst.username, PASSWORD) == 429
    other = Client()
    assert attempt(other, "/login/", world.a_analyst.username, PASSWORD, ip="198.51.100.20") == 302


@pytest.mark.django_db
def test_the_right_password_still_works_below_the_limit(world: World) -> None:
    client = Client()
    for n in range(3):
        attempt(client, "/login/", world.a_analyst.username, f"guess-{n}")
    assert attempt(client, "/login/", world.a_analyst.username, PASSWORD) == 302


@pytest.mark.django_db
def test_e_signature_password_locks_too(world: World) -> None:
    signer = world.a_signatory
    for _ in range(lockout.failure_limit() - 1):
        with pytest.raises(PermissionDenied, match="密码不正确"):
            lockout.check_signature_password(signer, "wrong")
    with pytest.raises(lockout.SignatureLocked):
        lockout.check_signature_password(signer, "wrong")
    with pytest.raises(lockout.SignatureLocked, match="已锁定"):
        lockout.check_signature_password(signer, PASSWORD)  # the right one, refused while locked
    events = AuditEvent.objects.filter(action="signature-failed", entity_id=str(signer.pk))
    assert events.count() == lockout.failure_limit()
    assert events.order_by("-pk").first().changes["locked"] is True  # type: ignore[union-attr]


@pytest.mark.django_db
def test_report_withdrawal_counts_toward_the_lock(lab: object) -> None:
    from opentic.reports import services
    from opentic.reports.models import Report

    world: World = lab.world  # type: ignore[attr-defined]
    signer = world.a_signatory
    report = Report(institution=world.lab_a)  # never reached: the password is checked first
    for _ in range(lockout.failure_limit()):
        with pytest.raises(PermissionDenied):
            services.withdraw_report(signer, report, "wrong", "打错了")
    with pytest.raises(lockout.SignatureLocked):
        services.withdraw_report(signer, report, PASSWORD, "打错了")
    assert AuditEvent.objects.filter(action="signature-failed", actor=signer).count() == lockout.failure_limit()


@pytest.mark.django_db
def test_result_verification_counts_toward_the_lock_and_is_audited(lab: object) -> None:
    from opentic.lims import verification
    from opentic.lims.models import Analysis

    world: World = lab.world  # type: ignore[attr-defined]
    sample = lab.received()  # type: ignore[attr-defined]
    analysis = Analysis.objects.filter(sample=sample).first()
    assert analysis is not None
    for _ in range(lockout.failure_limit()):
        with pytest.raises(PermissionDenied):
            verification.verify_result(world.a_reviewer, analysis, "wrong")
    with pytest.raises(lockout.SignatureLocked):
        verification.verify_result(world.a_reviewer, analysis, PASSWORD)
    refused = AuditEvent.objects.filter(action="refused", actor=world.a_reviewer)
    assert refused.count() == lockout.failure_limit() + 1
    assert "已锁定" in refused.order_by("-pk").first().reason  # type: ignore[union-attr]


@pytest.mark.django_db
def test_behind_a_proxy_the_lock_follows_the_forwarded_address(world: World, settings: object) -> None:
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"  # type: ignore[attr-defined]
    client = Client()
    for n in range(6):
        client.post("/login/", {"username": f"nobody-{n}", "password": "x"}, HTTP_X_REAL_IP="203.0.113.9")
    locked = client.post("/login/", {"username": world.a_analyst.username, "password": PASSWORD},
                         HTTP_X_REAL_IP="203.0.113.9")
    assert locked.status_code == 429
    other = Client().post("/login/", {"username": world.a_analyst.username, "password": PASSWORD},
                          HTTP_X_REAL_IP="198.51.100.30")
    assert other.status_code == 302  # another client behind the same proxy is not locked out
