"""One schema per thing: the OpenAPI document publishes router/schemas.py's models, which the handlers validate with."""
import yaml

from router import schemas
from router.web import openapi

from ..conftest import ROOT


def test_the_document_s_bodies_and_answers_are_the_models():
    doc = openapi.document("https://luukku.example.org")
    bodies = [op["requestBody"]["content"]["application/json"]["schema"] for path in doc["paths"].values()
              for op in path.values() if "application/json" in op.get("requestBody", {}).get("content", {})]
    published = [schemas.openapi(model) for model in schemas.BODIES.values()]
    assert bodies and all(body in published for body in bodies)
    assert set(doc["components"]["schemas"]) == set(schemas.ANSWERS) | {"CaseDetail"}
    assert doc["components"]["schemas"]["Case"] == schemas.openapi(schemas.Case, "serialization")


def test_a_body_is_checked_strictly_and_the_error_names_the_field():
    assert schemas.problem("activity", {"kind": "company_visit", "date": "2026-11-30", "participants": 3}) is None
    assert schemas.problem("activity", {"kind": "company_visit", "date": "2026-11-30", "participants": "3"}) \
        .startswith("participants: ")  # "3" is not a number here: the document says integer
    assert schemas.problem("activity", {"kind": "company_visit", "date": "2026-11-30", "extra": 1}).startswith("extra")
    assert schemas.problem("reassign", {}) is not None and schemas.problem("reassign", {"topic": "funding"}) is None
    assert schemas.problem("chat", {"text": "\ud800"}) is None  # a lone surrogate is the handler's to remove
    assert schemas.problem("note", ["text"]) is not None


def test_the_example_directory_fits_the_specialist_schema_and_a_broken_entry_does_not():
    entries = yaml.safe_load((ROOT / "directory.example.yml").read_text(encoding="utf-8"))["specialists"]
    checked = [schemas.Specialist.model_validate(e) for e in entries]
    assert checked[0].row()["titles"]["sv"] and checked[0].row()["notify_by"] in ("email", "sms")
    for broken in ({"working_hours": {"mon": ["16:00", "08:00"]}}, {"languages": ["de"]}, {"notify": "sms",
                   "phone": None}, {"absences": [["2026-12-05", "2026-12-01"]]}, {"deputy": entries[0]["key"]}):
        try:
            schemas.Specialist.model_validate({**entries[0], **broken})
        except schemas.ValidationError as exc:
            assert schemas.specialist_errors(exc)
        else:
            raise AssertionError(broken)
