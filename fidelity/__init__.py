"""Translation fidelity: what the client sent against what the provider received, field by field.

    from fidelity import RuleSet, compare_run
    result = compare_run(client_captures, upstream_captures, provider="bedrock_converse", tier="sonnet",
                         litellm_version="1.106.2", rules=RuleSet.load())
    tier_result.fidelity = result.model_dump()

Client side: ``python -m fidelity.recorder`` in front of the gateway (only when fidelity is on); upstream side: the
emulator's captures. Rules: ``expected_differences.yaml`` (override the path with CCMATRIX_FIDELITY_RULES).
After a run, ``RuleSet.stale(union of matched_rules, providers=...)`` lists rules that matched nothing.
"""
from .compare import FidelityResult, compare, compare_run, request_kind, verdict_of
from .decoders import DecodeError, decode, decode_client
from .diff import DiffRecord, diff
from .rules import Rule, RuleSet, RulesError
from providers._wire.universal import UniversalRequest

__all__ = [
    "DecodeError", "DiffRecord", "FidelityResult", "Rule", "RuleSet", "RulesError", "UniversalRequest",
    "compare", "compare_run", "decode", "decode_client", "diff", "request_kind", "verdict_of",
]
