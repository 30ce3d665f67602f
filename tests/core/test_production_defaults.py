"""Finding 5 of issue 12: safe defaults. Each case starts a fresh interpreter with a chosen environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD_KEYS = {"OPENTIC_SECRET_KEY": "x" * 10 + "production-secret-7d3f9a1c5e8b2d4f6a0c3e5b7d9f1a2c4e6b8d0f",
             "OPENTIC_ID_HASH_KEY": "production-id-hash-key-2e4c6a8b0d1f3e5a7c9b1d3f5a7c9e1b3d5f"}


def run(code: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "src"), "DJANGO_SETTINGS_MODULE": "opentic.settings",
            "OPENTIC_DATA_DIR": str(tmp_path / "var"), "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)


SHOW = "import django; django.setup(); from django.conf import settings as s; print(s.DEBUG, s.SECRET_KEY)"


def test_an_empty_environment_refuses_to_start(tmp_path: Path) -> None:
    done = run(SHOW, {}, tmp_path)
    assert done.returncode != 0
    assert "OPENTIC_SECRET_KEY is not set" in done.stderr


def test_the_public_demo_key_is_refused(tmp_path: Path) -> None:
    done = run(SHOW, {**PROD_KEYS, "OPENTIC_SECRET_KEY": "opentic-insecure-demo-key-change-me-in-production"},
               tmp_path)
    assert done.returncode != 0 and "public demo key" in done.stderr


def test_production_needs_its_own_id_hash_key(tmp_path: Path) -> None:
    done = run(SHOW, {"OPENTIC_SECRET_KEY": PROD_KEYS["OPENTIC_SECRET_KEY"]}, tmp_path)
    assert done.returncode != 0 and "OPENTIC_ID_HASH_KEY is not set" in done.stderr
    same = run(SHOW, {**PROD_KEYS, "OPENTIC_ID_HASH_KEY": PROD_KEYS["OPENTIC_SECRET_KEY"]}, tmp_path)
    assert same.returncode != 0 and "must differ" in same.stderr


def test_production_defaults(tmp_path: Path) -> None:
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_AGE)")
    done = run(code, PROD_KEYS, tmp_path)
    assert done.returncode == 0, done.stderr
    debug, redirect, session_secure, csrf_secure, hsts, age = done.stdout.split()
    assert (debug, redirect, session_secure, csrf_secure) == ("False", "True", "True", "True")
    assert int(hsts) >= 31_536_000
    assert int(age) < 14 * 24 * 3600


def test_the_demo_generates_its_own_secrets_in_var(tmp_path: Path) -> None:
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.DEBUG, s.DEMO, s.SECRET_KEY, s.OPENTIC_ID_HASH_KEY)")
    first = run(code, {"OPENTIC_DEMO": "1"}, tmp_path)
    assert first.returncode == 0, first.stderr
    debug, demo, key, id_key = first.stdout.split()
    assert (debug, demo) == ("False", "True")
    assert key != id_key and len(key) >= 50 and "insecure" not in key
    assert (tmp_path / "var" / "secret.key").read_text().strip() == key
    assert (tmp_path / "var" / "secret.key").stat().st_mode & 0o077 == 0
    again = run(code, {"OPENTIC_DEMO": "1"}, tmp_path)
    assert again.stdout == first.stdout  # kept, not regenerated: sessions and ID hashes survive a restart
    other = run(code, {"OPENTIC_DEMO": "1", "OPENTIC_DATA_DIR": str(tmp_path / "elsewhere")}, tmp_path)
    assert other.stdout.split()[2] != key  # every installation its own


def test_check_deploy_is_clean_in_a_production_configuration(tmp_path: Path) -> None:
    # A public https address for the QR codes of reports (the reports app's check E001 refuses a demo one,
    # loopback or a reserved test domain such as .example).
    env = {**PROD_KEYS, "OPENTIC_ALLOWED_HOSTS": "opentic.cq.gov.cn",
           "OPENTIC_REDIS_URL": "redis://127.0.0.1:6379/3", "OPENTIC_PUBLIC_URL": "https://opentic.cq.gov.cn"}
    done = subprocess.run([sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
                          env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "src"),
                               "DJANGO_SETTINGS_MODULE": "opentic.settings",
                               "OPENTIC_DATA_DIR": str(tmp_path / "var"), **env},
                          capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_check_deploy_asks_for_a_shared_cache(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "django", "check", "--deploy"],
                          env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "src"),
                               "DJANGO_SETTINGS_MODULE": "opentic.settings",
                               "OPENTIC_DATA_DIR": str(tmp_path / "var"), **PROD_KEYS},
                          capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert "opentic.W001" in done.stdout + done.stderr


@pytest.mark.django_db
def test_security_headers_on_a_page(client: object, settings: object) -> None:
    from django.test import Client

    assert isinstance(client, Client)
    response = client.get("/find/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_no_inline_script_or_style_in_templates() -> None:
    """The policy allows no inline script or style: every template keeps them in static files."""
    import re

    offenders = []
    for path in (ROOT / "src" / "opentic").rglob("templates/**/*.html"):
        if (path.parts[-2] in {"reports"} and path.name == "report.html") or path.name == "report.html":
            continue  # documents rendered by WeasyPrint into PDFs, never served as pages
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", text) or re.search(
                r"\son[a-z]+=\"|\sstyle=\"|<style", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_static_files_are_served_with_debug_off(tmp_path: Path) -> None:
    """After collectstatic, WhiteNoise serves CSS and htmx itself (DEBUG off served none of them)."""
    env = {**PROD_KEYS, "OPENTIC_ALLOWED_HOSTS": "testserver"}
    code = ("import django; django.setup(); from django.core.management import call_command; "
            "call_command('collectstatic', interactive=False, verbosity=0); "
            "from django.conf import settings; from django.test import Client; c = Client(); "
            "css = c.get('/static/opentic/opentic.css', secure=True); "
            "js = c.get('/static/vendor/htmx/htmx-2.0.11.min.js', secure=True); "
            "print(settings.DEBUG, css.status_code, css['Content-Type'].split(';')[0], js.status_code)")
    done = run(code, env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "200", "text/css", "200"]
