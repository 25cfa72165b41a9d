"""GET /openapi.json: OpenAPI 3.1 covering every route and schema (blog_api/openapi.py)."""

from __future__ import annotations

import re
from typing import Any

from blog_api.openapi import PREFIX
from blog_api.schemas import MAX_ID


def spec(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def test_spec_is_openapi_3_1(client: Any) -> None:
    document = spec(client)
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_route_is_documented_and_nothing_else(app: Any, client: Any) -> None:
    documented = {
        (method.upper(), path)
        for path, operations in spec(client)["paths"].items()
        for method in operations
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len(PREFIX) :])
        served |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served


def test_every_schema_reference_resolves(client: Any) -> None:
    document = spec(client)
    refs = set(
        re.findall(r'"\$ref": "#/components/schemas/(\w+)"', str(document).replace("'", '"'))
    )
    assert refs and refs <= set(document["components"]["schemas"])
    for name in ("PostIn", "PostOut", "UserOut", "CommentOut", "TokenOut", "ErrorOut"):
        assert name in document["components"]["schemas"]


def test_request_schemas_forbid_unknown_fields(client: Any) -> None:
    schemas = spec(client)["components"]["schemas"]
    assert schemas["PostIn"]["additionalProperties"] is False
    assert set(schemas["PostIn"]["required"]) == {"title", "body"}


def test_protected_operations_declare_bearer_security(client: Any) -> None:
    paths = spec(client)["paths"]
    assert paths["/posts"]["post"]["security"] == [{"bearerAuth": []}]
    assert {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
    } in paths["/posts/{post_id}"]["patch"]["parameters"]
    assert "412" in paths["/posts/{post_id}"]["patch"]["responses"]


def test_spec_documents_what_the_validators_accept(client: Any) -> None:
    document = spec(client)
    schemas = document["components"]["schemas"]
    assert schemas["PostIn"]["properties"]["tags"]["items"]["pattern"].startswith("^[a-z0-9]")
    # PATCH fields may be left out, but null is refused: the spec must not offer it.
    assert "null" not in str(schemas["PostPatch"]["properties"])
    assert "null" not in str(schemas["UserPatch"]["properties"])
    post_id = document["paths"]["/posts/{post_id}"]["get"]["parameters"][0]["schema"]
    assert post_id["minimum"] == 1 and post_id["maximum"] == MAX_ID


def test_every_operation_documents_401_and_bodies_document_413(client: Any) -> None:
    for path, operations in spec(client)["paths"].items():
        for method, operation in operations.items():
            assert "401" in operation["responses"], (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415", "422"} <= set(operation["responses"]), (method, path)


def test_the_user_patch_documents_current_password_and_the_new_tokens(client: Any) -> None:
    document = spec(client)
    schemas = document["components"]["schemas"]
    properties = schemas["UserPatch"]["properties"]
    assert properties["current_password"]["type"] == "string"
    assert properties["password"]["minLength"] == 8 and properties["password"]["maxLength"] >= 64
    operation = document["paths"]["/users/{user_id}"]["patch"]
    success = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert success == {"$ref": "#/components/schemas/UserUpdateOut"}
    assert "tokens" in schemas["UserUpdateOut"]["properties"]
    assert {"403", "422", "429"} <= set(operation["responses"])
