"""The house (DESIGN.md): apps sit on floors and a module imports only from its own floor or below. A lower
app reaches a higher one through a hook registered at start-up, never through an import, a lazy import
inside a function or `apps.get_model` on a higher app's label. The test parses every module with ast, so it
sees the imports inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import opentic
from opentic.lims import hooks
from opentic.reports import services
from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab
from tests.reports.test_reports import make_signatory, verified_sample

ROOT = Path(opentic.__file__).parent

FLOORS = {
    "numerics": 0,
    "core": 1,
    "registry": 2,
    "lims": 3, "ledger": 3,
    "quality": 4,
    "reports": 5,
    "supervision": 6,
    "analytics": 7,
    "portal": 8,
    "demo": 9,
}
# The project's assembly modules (settings, URLs, the API, the CLI) stand above every app.
TOP = 10
ASSEMBLY = {"settings", "settings_typecheck", "urls", "api", "cli", "wsgi", "__init__"}


def floor_of(module: str) -> int | None:
    """The floor of a dotted opentic module, None for modules outside opentic."""
    parts = module.split(".")
    if parts[0] != "opentic":
        return None
    if len(parts) == 1:
        return TOP
    if parts[1] in FLOORS:
        return FLOORS[parts[1]]
    assert parts[1] in ASSEMBLY, f"opentic.{parts[1]} has no floor: add it to DESIGN.md and to this test"
    return TOP


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path, name: str, models: bool = True) -> list[tuple[int, str]]:
    """(line, module) for every import of the file, relative imports resolved, and every apps.get_model
    / get_model call whose first argument is a literal "app_label.Model" or app label."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
        elif (models and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
              and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "get_model"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            label = node.args[0].value.split(".")[0]
            if label in FLOORS:
                found.append((node.lineno, f"opentic.{label}"))
    return found


def violations() -> list[str]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        name = module_name(path)
        own = floor_of(name)
        assert own is not None
        # A data migration loads the historical models it depends on with apps.get_model; only its imports count.
        migration = "migrations" in path.parts
        for line, module in imported(path, name, models=not migration):
            target = floor_of(module)
            if target is not None and target > own:
                out.append(f"{path.relative_to(ROOT.parent)}:{line} ({name}, floor {own}) imports {module} "
                           f"(floor {target})")
    return out


def test_every_import_goes_down_the_floors() -> None:
    assert violations() == []


def test_the_checker_sees_upward_imports(tmp_path: Path) -> None:
    """The checker itself: a lazy import inside a function, a relative import and a get_model on a higher
    app are all found (so an empty list above means something)."""
    source = tmp_path / "opentic" / "lims" / "x.py"
    source.parent.mkdir(parents=True)
    source.write_text("def f():\n    from opentic.reports import services\n"
                      "from ..portal import views\n"
                      "from django.apps import apps\nM = apps.get_model('reports', 'Report')\n"
                      "from opentic.core import audit\n", encoding="utf-8")
    global ROOT
    saved, ROOT = ROOT, tmp_path / "opentic"
    try:
        found = sorted(module for _, module in imported(source, module_name(source)))
    finally:
        ROOT = saved
    assert found == ["django.apps", "opentic.core", "opentic.portal", "opentic.reports", "opentic.reports"]
    assert [floor_of(m) for m in found] == [None, 1, 8, 5, 5]


@pytest.mark.django_db
def test_the_sample_page_lists_its_reports_through_the_hook(lab: Lab, settings: object, tmp_path: Path) -> None:
    """lims used to look the reports up with apps.get_model; the reports app now registers the lookup."""
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    assert hooks.sample_reports is not None
    make_signatory(lab)
    report = services.issue_report(lab.world.a_signatory, verified_sample(lab), PASSWORD)
    page = lab.world.client("a_analyst").get(f"/lims/samples/{report.sample_id}/")
    assert page.status_code == 200
    assert report.number in page.content.decode()
    assert [r.pk for r in hooks.reports_of(report.sample)] == [report.pk]
