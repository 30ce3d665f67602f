"""The laboratory's setup, as its institution admin keeps it: methods and their versions, uncertainty budgets,
limits (specification sets), analysts' method authorizations, instrument file mappings. Each change is
audited; a change of a method raises its version, so results say which version made them."""


from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from opentic.core import audit
from opentic.core.models import Role, User
from opentic.numerics.conformity import ConformityError, Limits
from opentic.numerics.formula import Formula, FormulaError
from opentic.numerics.stats.uncertainty import Budget
from opentic.registry.models import (
    Institution,
    Instrument,
    TestObject,
)

from . import budget
from .models import (
    AnalysisService,
    InstrumentMapping,
    MethodAuthorization,
    Specification,
    UncertaintyComponent,
)
from .services import require_member


@transaction.atomic
def save_uncertainty_budget(actor: User, service: AnalysisService, inputs: Sequence[budget.Input]) -> Budget:
    """Replace the method's budget; its version goes up, as for any change of the method."""
    service = AnalysisService.objects.select_for_update().get(pk=service.pk)
    require_member(actor, service.institution_id, Role.INSTITUTION_ADMIN)
    for i, row in enumerate(inputs, start=1):
        if not row.name.strip():
            raise ValidationError(f"第 {i} 行:请写明不确定度来源")
        if row.distribution not in budget.DIVISORS:
            raise ValidationError(f"第 {i} 行:未知的分布 {row.distribution}")
        if not (0 < row.relative_percent < 100):
            raise ValidationError(f"第 {i} 行:相对值应在 0 到 100 % 之间")
    result = budget.relative_budget(inputs)
    before = [[c.name, c.distribution, str(c.relative), c.dof] for c in service.uncertainty_budget.all()]
    service.uncertainty_budget.all().delete()
    UncertaintyComponent.objects.bulk_create([
        UncertaintyComponent(service=service, name=row.name.strip(), distribution=row.distribution,
                             relative=Decimal(str(row.relative_percent)), dof=row.dof) for row in inputs])
    service.version += 1
    service.save(update_fields=["version"])
    audit.record(actor=actor, action="uncertainty-budget", entity=service, institution_id=service.institution_id,
                 changes={"inputs": [before, [[r.name, r.distribution, r.relative_percent, r.dof] for r in inputs]],
                          "u_rel": round(result.uc, 6), "dof": result.dof, "k": round(result.k, 2)})
    return result


@transaction.atomic
def save_specification(actor: User, institution: Institution, name: str, test_object: TestObject,
                       parameter_id: int, unit: str, lower: Decimal | None = None, upper: Decimal | None = None,
                       reason: str = "") -> Specification:
    """Create or change a limit set; a change needs its reason, and the old limits stay in the trail."""
    require_member(actor, institution.pk, Role.INSTITUTION_ADMIN)
    try:
        Limits(lower, upper)
    except ConformityError as exc:
        raise ValidationError(str(exc)) from exc
    spec = Specification.objects.select_for_update().filter(
        institution=institution, name=name.strip(), test_object=test_object, parameter_id=parameter_id).first()
    before = {"lower": spec.lower, "upper": spec.upper, "unit": spec.unit} if spec else {}
    if spec is not None and not reason.strip():
        raise ValidationError({"reason": "修改限量必须说明理由"})
    spec = spec or Specification(institution=institution, name=name.strip(), test_object=test_object,
                                 parameter_id=parameter_id)
    spec.lower, spec.upper, spec.unit = lower, upper, unit.strip()
    spec.full_clean()
    spec.save()
    audit.record(actor=actor, action="update" if before else "create", entity=spec, institution_id=institution.pk,
                 changes=audit.diff(before, {"lower": lower, "upper": upper, "unit": spec.unit}), reason=reason)
    return spec


@transaction.atomic
def authorize(actor: User, analyst: User, standard_id: int, valid_from: dt.date,
              valid_until: dt.date | None = None) -> MethodAuthorization:
    require_member(actor, analyst.institution_id or 0, Role.INSTITUTION_ADMIN)
    if valid_until is not None and valid_until < valid_from:
        raise ValidationError({"valid_until": "结束日期早于开始日期"})
    grant = MethodAuthorization.objects.create(user=analyst, standard_id=standard_id, valid_from=valid_from,
                                               valid_until=valid_until)
    audit.record(actor=actor, action="authorize", entity=grant, institution_id=analyst.institution_id,
                 changes={"user": analyst.get_username(), "standard": standard_id, "valid_from": valid_from,
                          "valid_until": valid_until})
    return grant


@transaction.atomic
def revoke(actor: User, grant: MethodAuthorization, reason: str) -> None:
    require_member(actor, grant.user.institution_id or 0, Role.INSTITUTION_ADMIN)
    if not reason.strip():
        raise ValidationError({"reason": "撤销授权必须说明理由"})
    audit.record(actor=actor, action="revoke", entity=grant, institution_id=grant.user.institution_id,
                 changes={"user": grant.user.get_username(), "standard": grant.standard_id}, reason=reason)
    grant.delete()


@transaction.atomic
def save_service(actor: User, institution: Institution, keyword: str, parameter_id: int, standard_id: int,
                 unit: str, places: int = 2, loq: Decimal | None = None, lod: Decimal | None = None,
                 below_loq: str = "lt_loq", formula: str = "", reason: str = "") -> AnalysisService:
    """Create a method setting, or change one (its version goes up, so results say which version made them)."""
    require_member(actor, institution.pk, Role.INSTITUTION_ADMIN)
    if formula.strip():
        try:
            Formula(formula)
        except FormulaError as exc:
            raise ValidationError({"formula": str(exc)}) from exc
    service = AnalysisService.objects.select_for_update().filter(institution=institution,
                                                                 keyword=keyword.strip()).first()
    fields = {"parameter_id": parameter_id, "standard_id": standard_id, "unit": unit.strip(), "places": places,
              "loq": loq, "lod": lod, "below_loq": below_loq, "formula": formula.strip()}
    if service is None:
        service = AnalysisService(institution=institution, keyword=keyword.strip(), **fields)
        service.full_clean()
        service.save()
        audit.record(actor=actor, action="create", entity=service, institution_id=institution.pk, changes=fields)
        return service
    before = {k: getattr(service, k) for k in fields}
    changes = audit.diff(before, fields)
    if not changes:
        return service
    if not reason.strip():
        raise ValidationError({"reason": "修改方法设置必须说明理由"})
    for name, value in fields.items():
        setattr(service, name, value)
    service.version += 1
    service.full_clean()
    service.save()
    audit.record(actor=actor, action="update", entity=service, institution_id=institution.pk,
                 changes={**changes, "version": [service.version - 1, service.version]}, reason=reason)
    return service


@transaction.atomic
def save_mapping(actor: User, instrument: Instrument, name: str, sample_column: str, columns: dict[str, str],
                 type_column: str = "", sample_types: Sequence[str] = ()) -> InstrumentMapping:
    """Save how one instrument's export file is read; every keyword must be one of the lab's methods."""
    require_member(actor, instrument.institution_id, Role.INSTITUTION_ADMIN, Role.ANALYST)
    if not columns:
        raise ValidationError({"columns": "至少要映射一个结果列"})
    known = set(AnalysisService.objects.filter(institution_id=instrument.institution_id).values_list(
        "keyword", flat=True))
    unknown = sorted(set(columns.values()) - known)
    if unknown:
        raise ValidationError({"columns": f"本机构没有这些检测项目关键字:{'、'.join(unknown)}"})
    mapping, created = InstrumentMapping.objects.update_or_create(
        institution_id=instrument.institution_id, instrument=instrument, name=name.strip(), defaults={
            "sample_column": sample_column.strip(), "type_column": type_column.strip(),
            "sample_types": [t.strip() for t in sample_types if t.strip()], "columns": columns})
    audit.record(actor=actor, action="create" if created else "update", entity=mapping,
                 institution_id=instrument.institution_id,
                 changes={"sample_column": mapping.sample_column, "type_column": mapping.type_column,
                          "sample_types": mapping.sample_types, "columns": columns})
    return mapping
