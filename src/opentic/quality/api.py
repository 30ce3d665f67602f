"""PT endpoints for a participant's own systems: its rounds, submitting results, its published scores."""

import datetime as dt

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.params import PathEx
from ninja.responses import Status
from pydantic import Field

from opentic.core.api_auth import AUTH
from opentic.core.api_schemas import ErrorOut, id_param
from opentic.core.http import AuthenticatedHttpRequest
from opentic.core.permissions import lab_of

from . import pt
from .models import Participation, Round, Submission

router = Router(tags=["proficiency testing"], auth=AUTH)
RoundId = PathEx[int, id_param("the round's id")]


class RoundOut(Schema):
    id: int
    scheme: str
    round: str
    parameter: str
    unit: str
    deadline: dt.date
    state: str
    score_kind: str
    participant_code: str
    items: list[str]


class PtResultIn(Schema):
    item: str = Field(..., min_length=1, max_length=10, description="the PT item's code, as on its label")
    value: str = Field(..., min_length=1, max_length=40, description="your result, as a decimal number")
    expanded_uncertainty: str = Field("", max_length=40, description="expanded uncertainty U (for En or zeta)")
    coverage_factor: str = Field("", max_length=10, description="coverage factor k of U")
    method: str = Field("", max_length=200, description="the method you used")
    version: int | None = Field(None, ge=1, le=2**31 - 1,
                                description="the version you read, when replacing a result")


class PtResultOut(Schema):
    item: str
    value: str
    expanded_uncertainty: str
    coverage_factor: str
    version: int
    score: float | None
    performance: str



def _mine(request: HttpRequest, round_id: int) -> Participation:
    return get_object_or_404(Participation.objects.select_related("round__scheme__parameter"), round_id=round_id,
                             institution_id=lab_of(request.user))


def _result(s: Submission, published: bool) -> dict[str, object]:
    score = getattr(s, "score", None) if published else None
    return {"item": s.item.code, "value": str(s.value.normalize()),
            "expanded_uncertainty": "" if s.expanded_uncertainty is None else str(s.expanded_uncertainty.normalize()),
            "coverage_factor": "" if s.coverage_factor is None else str(s.coverage_factor.normalize()),
            "version": s.version, "score": score.value if score else None,
            "performance": score.performance if score else ""}


@router.get("/rounds", response=list[RoundOut], summary="Your PT rounds",
            description="The proficiency-testing rounds your institution takes part in, latest deadline first, "
                        "with your participant code and the items.")
def rounds(request: AuthenticatedHttpRequest) -> list[dict[str, object]]:
    out = []
    for p in Participation.objects.filter(institution_id=lab_of(request.user)).select_related(
            "round__scheme__parameter").prefetch_related("round__items").order_by("-round__deadline")[:200]:
        r = p.round
        out.append({"id": r.pk, "scheme": r.scheme.code, "round": r.number, "parameter": r.scheme.parameter.name,
                    "unit": r.scheme.unit, "deadline": r.deadline, "state": r.state, "score_kind": r.score_kind,
                    "participant_code": p.code, "items": [i.code for i in r.items.all()]})
    return out


@router.post("/rounds/{round_id}/results", response={201: PtResultOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
             summary="Submit a PT result",
             description="Submit or replace your result for one item before the deadline (replacing needs the "
                         "version you read).")
def submit(request: AuthenticatedHttpRequest, payload: PtResultIn, round_id: RoundId) -> Status[object]:
    mine = _mine(request, round_id)
    item = mine.round.items.filter(code=payload.item).first()
    if item is None:
        return Status(422, {"detail": {"item": [f"本轮没有样品 {payload.item}"]}})
    row = pt.submit_result(request.user, mine, item, payload.value, payload.expanded_uncertainty,
                           payload.coverage_factor, method=payload.method, source=Submission.Source.API,
                           expected_version=payload.version)
    return Status(201, _result(row, False))


@router.get("/rounds/{round_id}/results", response=list[PtResultOut], summary="Your PT results",
            description="Your submitted results for a round; scores and performance once the round is published.")
def results(request: AuthenticatedHttpRequest, round_id: RoundId) -> list[dict[str, object]]:
    mine = _mine(request, round_id)
    published = mine.round.state == Round.State.PUBLISHED
    return [_result(s, published) for s in mine.submissions.select_related("item", "score")]
