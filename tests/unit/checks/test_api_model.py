"""The checks ask the catalogue about the tier's Claude API id, whatever name the gateway gives the model."""
from __future__ import annotations

from types import SimpleNamespace

from worker.check import CheckContext

api_model = CheckContext.api_model.fget


def test_the_manifests_id_wins_over_the_gateways_model_name():
    bedrock = SimpleNamespace(id="bedrock_converse")
    # Portkey asks for the provider's id, claude-code-router for "provider,model"
    assert api_model(SimpleNamespace(claude_model="claude-haiku-5-5", model="us.anthropic.claude-haiku-5-5",
                                     provider=bedrock)) == "claude-haiku-5-5"
    assert api_model(SimpleNamespace(claude_model="claude-haiku-5-5", model="vertex,claude-haiku-5-5",
                                     provider=SimpleNamespace(id="vertex_ai"))) == "claude-haiku-5-5"


def test_without_it_the_litellm_alias_is_read():
    assert api_model(SimpleNamespace(claude_model=None, model="claude-haiku-5-5-bedrock-converse",
                                     provider=SimpleNamespace(id="bedrock_converse"))) == "claude-haiku-5-5"
