"""The PT API: a participant's systems list rounds, submit results with uncertainty, read published scores."""

import json

import pytest
from django.test import Client

from opentic.core.api_auth import issue_token
from opentic.quality import pt
from opentic.quality.models import Submission
from tests.quality.fixtures import PT, pt_round, submit_others  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db


def test_submit_and_read_scores_through_the_api(pt_round: PT) -> None:  # noqa: F811
    w, r = pt_round.world, pt_round.round
    _, token = issue_token(w.a_analyst, "pt")
    c = Client(headers={"Authorization": f"Bearer {token}"})
    rounds = c.get("/api/quality/pt/rounds").json()
    assert [(x["id"], x["items"]) for x in rounds] == [(r.pk, ["A", "B"])]
    assert rounds[0]["participant_code"] == pt_round.participation(w.lab_a).code
    url = f"/api/quality/pt/rounds/{r.pk}/results"

    def post(body: dict[str, object]) -> tuple[int, dict[str, object]]:
        response = c.post(url, json.dumps(body), content_type="application/json")
        return response.status_code, response.json()

    status, body = post({"item": "A", "value": "0.251", "expanded_uncertainty": "0.03", "coverage_factor": "2"})
    assert status == 201 and body["version"] == 1 and body["score"] is None
    assert Submission.objects.get().source == "api"
    assert post({"item": "Z", "value": "1"})[0] == 422
    assert post({"item": "A", "value": "not a number"})[0] == 422
    assert post({"item": "A", "value": "0.25", "version": 7})[0] == 422  # stale version: no silent overwrite
    assert post({"value": "0.25"})[0] == 422  # malformed: no 500
    assert c.post(url, "{", content_type="application/json").status_code in (400, 422)
    assert post({"item": "A", "value": "0.252", "version": 1})[0] == 201
    submit_others(pt_round)
    for step in (pt.close_round, pt.evaluate_round, pt.publish_round):
        step(w.regulator, r)
    scores = c.get(url).json()
    assert scores[0]["item"] == "A" and scores[0]["performance"] == "satisfactory" and scores[0]["score"] is not None
    # another lab's token sees none of it
    _, other = issue_token(pt_round.others[0][1], "pt")
    stranger = Client(headers={"Authorization": f"Bearer {other}"})
    theirs = stranger.get("/api/quality/pt/rounds").json()
    assert [x["participant_code"] for x in theirs] == [pt_round.participation(pt_round.others[0][0]).code]
    assert stranger.get(url).json()[0]["value"] != "0.252"  # their own results, not lab A's
    assert Client().get("/api/quality/pt/rounds").status_code == 401
