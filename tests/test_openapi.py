"""The published OpenAPI document says what each operation accepts and answers.

ninja files every schema under its class name; two classes of one name silently become one component, and
an operation is then documented with another's body. These tests derive what each operation really takes
and returns from its own pydantic models and compare it with /api/openapi.json.
"""

from __future__ import annotations

import enum
import typing
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from ninja.openapi.schema import NinjaGenerateJsonSchema
from pydantic import BaseModel

from opentic.api import api

BODY_SOURCES = {"body", "form", "file"}


def operations() -> Iterator[tuple[str, str, Any]]:
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for op in view.operations:
                for method in op.methods:
                    yield method.lower(), f"/api{prefix}{path}", op


def _classes(annotation: Any, seen: set[type]) -> Iterator[type]:
    """Every pydantic model and enum reachable from an annotation."""
    if isinstance(annotation, type) and annotation not in seen:
        if issubclass(annotation, BaseModel):
            seen.add(annotation)
            yield annotation
            for field in annotation.model_fields.values():
                yield from _classes(field.annotation, seen)
        elif issubclass(annotation, enum.Enum):
            seen.add(annotation)
            yield annotation
    for arg in typing.get_args(annotation):
        yield from _classes(arg, seen)


def _public_name(cls: type) -> str:
    return cls.__name__


def test_no_two_schemas_share_a_name() -> None:
    by_name: dict[str, set[str]] = defaultdict(set)
    seen: set[type] = set()
    for _, _, op in operations():
        roots = [*op.models, *(m for m in op.response_models.values() if isinstance(m, type))]
        for root in roots:
            for cls in _classes(root, seen):
                # ninja's own wrappers (PathParams, BodyParams, Response…) never reach the components
                if cls.__module__.startswith("ninja."):
                    continue
                by_name[_public_name(cls)].add(f"{cls.__module__}.{cls.__qualname__}")
    clashes = {name: sorted(owners) for name, owners in by_name.items() if len(owners) > 1}
    assert not clashes, clashes


def _resolve(schema: Any, defs: dict[str, Any]) -> Any:
    """Inline every $ref and drop titles (ninja and pydantic title the same schema differently)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _resolve(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
        return {k: _resolve(v, defs) for k, v in schema.items() if k != "title"}
    if isinstance(schema, list):
        return [_resolve(v, defs) for v in schema]
    return schema


def _own(model: type[BaseModel], mode: str = "validation", by_alias: bool = True) -> dict[str, Any]:
    """The model's schema computed alone, so no other class can stand in for one of its parts."""
    schema = model.model_json_schema(schema_generator=NinjaGenerateJsonSchema, mode=mode,  # type: ignore[arg-type]
                                     by_alias=by_alias)
    return typing.cast(dict[str, Any], _resolve(schema, schema.get("$defs", {})))


def _accepted_properties(op: Any) -> dict[str, Any]:
    """Each field the operation's body, form and file parameters accept, as its own models define it."""
    found: dict[str, Any] = {}
    for model in op.models:
        if model.__ninja_param_source__ not in BODY_SOURCES:
            continue
        for name, prop in _own(model)["properties"].items():
            if hasattr(model, "__ninja_flatten_map__") and "properties" in prop:
                found.update(prop["properties"])  # a Form[Schema] parameter is sent as the schema's fields
            else:
                found[name] = prop
    return found


@pytest.fixture(scope="module")
def published() -> dict[str, Any]:
    """The document as served, which is what clients and the docs page read (in English: the models' own
    descriptions are English, the Chinese document translates them)."""
    return typing.cast(dict[str, Any], Client().get("/en/api/openapi.json").json())


def _documented(published: dict[str, Any], method: str, url: str) -> dict[str, Any]:
    import re

    path = re.sub(r"{[^}:]+:", "{", url)
    return typing.cast(dict[str, Any], published["paths"][path][method])


OPERATIONS = list(operations())
IDS = [f"{m} {u}" for m, u, _ in OPERATIONS]


@pytest.mark.parametrize(("method", "url", "op"), OPERATIONS, ids=IDS)
def test_documented_request_body_is_what_the_operation_accepts(published: dict[str, Any], method: str, url: str,
                                                               op: Any) -> None:
    defs = published["components"]["schemas"]
    documented = _documented(published, method, url).get("requestBody")
    accepted = _accepted_properties(op)
    if not accepted:
        assert documented is None
        return
    (content,) = documented["content"].values()
    schema = _resolve(content["schema"], defs)
    body_models = [m for m in op.models if m.__ninja_param_source__ == "body"]
    if len(body_models) == 1 and len([m for m in op.models if m.__ninja_param_source__ in BODY_SOURCES]) == 1:
        # a single JSON body: the document shows the schema itself, not a wrapper
        (expected,) = accepted.values()
        assert schema == expected
    else:
        assert schema["properties"] == accepted


@pytest.mark.parametrize(("method", "url", "op"), OPERATIONS, ids=IDS)
def test_documented_responses_are_what_the_operation_answers(published: dict[str, Any], method: str, url: str,
                                                             op: Any) -> None:
    defs = published["components"]["schemas"]
    responses = _documented(published, method, url)["responses"]
    for status, model in op.response_models.items():
        if not isinstance(model, type):
            continue  # no declared body (a file download)
        expected = _own(model, "serialization", bool(op.by_alias))["properties"]["response"]
        documented = _resolve(responses[str(status)]["content"]["application/json"]["schema"], defs)
        assert documented == expected, status
