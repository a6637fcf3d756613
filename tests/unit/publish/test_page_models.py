"""The page shows, per column and tier, the model id each column was tested with, and how each tier was chosen."""
import json

from ccmatrix.matrix import to_json, validate_document
from ccmatrix.publish.page import plain_table, render_page
from ccmatrix.publish.samples import FOURTH, matrix


def document() -> dict:
    return json.loads(to_json(matrix()))


def test_the_sample_carries_models_and_validates():
    doc = document()
    validate_document(doc)
    last = doc["providers_detail"][FOURTH]["models"]
    assert last["opus"] is None and last["haiku"]
    assert doc["tier_models"]["haiku"]["policy"] == "latest"


def test_the_noscript_table_names_each_columns_model_per_tier():
    doc = document()
    table = plain_table(doc)
    assert "<tfoot>" in table and "haiku model" in table
    for p in doc["providers"]:
        for model in doc["providers_detail"][p]["models"].values():
            if model:
                assert model in table
    assert "not offered" in table


def test_an_older_document_without_models_shows_no_model_rows():
    doc = document()
    del doc["tier_models"]
    for detail in doc["providers_detail"].values():
        del detail["models"]
    validate_document(doc)
    assert "<tfoot>" not in plain_table(doc)


def test_the_page_script_renders_models_under_the_columns_and_in_the_tier_detail():
    html = render_page(document())
    for hook in ('"data-tier-models"', '"model-" + t + "-" + p', '"tier-models"', '"data-col": "model"',
                 'doc.tier_models', 'not offered'):
        assert hook in html, hook
