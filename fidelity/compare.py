"""Compare what the client sent with what reached the provider, per request and per CLI run."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from providers import registry
from providers._wire import messages

from .decoders import DecodeError, decode, decode_client, split_path
from .diff import DiffRecord, brief, diff
from .rules import RuleSet

Verdict = Literal["clean", "expected-only", "unexpected", "unknown"]

BUILTIN_MODEL_RULE = "builtin.model-mapping"


class FidelityResult(BaseModel):
    verdict: Verdict
    records: list[DiffRecord] = Field(default_factory=list)
    matched_rules: list[str] = Field(default_factory=list)
    turns: int = 0  # message-creating requests compared
    notes: list[str] = Field(default_factory=list)

    @property
    def unexpected(self) -> list[DiffRecord]:
        return [r for r in self.records if r.status == "unexpected"]


def verdict_of(records: list[DiffRecord]) -> Verdict:
    if not records:
        return "clean"
    if any(r.status == "unexpected" for r in records):
        return "unexpected"
    return "expected-only"


def _result(records: list[DiffRecord], turns: int, notes: list[str] | None = None) -> FidelityResult:
    matched = sorted({r.rule for r in records if r.rule and not r.rule.startswith("builtin.")})
    return FidelityResult(verdict=verdict_of(records), records=records, matched_rules=matched, turns=turns, notes=notes or [])


def _model_check(records: list[DiffRecord], provider: str, expected_upstream_model: str | None) -> list[DiffRecord]:
    """With the manifest's model id known, an upstream model other than it is unexpected whatever the rules say
    (the alias→id rewrite itself is documented by a rule in the expected-differences file). The provider's
    package says which other ids name the same model (e.g. a foundation id for Bedrock CountTokens)."""
    if not expected_upstream_model:
        return records
    accepted = registry.get(provider).same_model(expected_upstream_model)
    out = []
    for r in records:
        if r.path == "envelope.model" and r.after not in accepted:
            r = r.model_copy(update={"status": "unexpected", "rule": BUILTIN_MODEL_RULE, "rule_class": None,
                                     "reason": f"upstream model is not the manifest's {expected_upstream_model!r}"})
        out.append(r)
    return out


def compare(
    client_capture: dict[str, Any],
    upstream_capture: dict[str, Any],
    provider: str,
    tier: str | None,
    litellm_version: str | None,
    rules: RuleSet,
    expected_upstream_model: str | None = None,
) -> FidelityResult:
    """One client request against the one upstream request it became."""
    records = _compare_records(client_capture, upstream_capture, provider, tier, litellm_version, rules, expected_upstream_model)
    return _result(records, turns=1)


def _compare_records(client_capture, upstream_capture, provider, tier, litellm_version, rules, expected_upstream_model):
    try:
        u1 = decode_client(client_capture, provider)
    except (DecodeError, ValueError, TypeError) as e:
        return [DiffRecord(path="request", kind="changed", before=None, after=None, status="unexpected",
                           rule="builtin.decode", reason=f"client request not decodable: {e}")]
    try:
        u2 = decode(upstream_capture, provider)
    except (DecodeError, ValueError, TypeError) as e:
        return [DiffRecord(path="request", kind="changed", before=None, after=None, status="unexpected",
                           rule="builtin.decode", reason=f"upstream request not decodable as {provider}: {e}")]
    records = _model_check(diff(u1, u2), provider, expected_upstream_model)
    return rules.apply(records, provider, tier, litellm_version)


# ----------------------------------------------------------------------------------------- pairing a CLI run


def request_kind(capture: dict[str, Any], side: str, provider: str | None = None) -> str | None:
    """'message' for a message-creating request, 'count_tokens', or None (HEAD /, token exchange, ...).
    ``side`` is 'client' or a provider id; on the client side, ``provider`` (the column's package) says what its
    client mode sends (the plain Messages API by default)."""
    method = str(capture.get("method") or "POST").upper()
    if method != "POST":
        return None
    op = capture.get("operation")  # the emulator's own classification, when the capture carries it
    if side != "client" and isinstance(op, str) and op:
        if op in registry.message_operations():
            return "message"
        return "count_tokens" if op == "count_tokens" else None
    path = split_path(capture)[0].rstrip("/")
    if side == "client":
        return registry.get(provider).client_request_kind(path) if provider else messages.request_kind(path)
    return registry.get(side).request_kind(path)


def _shape(capture: dict[str, Any], side: str, provider: str | None = None) -> tuple | None:
    """What survives any translation of a request: how many messages and tools it carries."""
    try:
        u = decode_client(capture, provider) if side == "client" else decode(capture, side)
    except Exception:
        return None
    return (len(u.messages), len(u.tools))


def _pair_turns(cm: list[dict], um: list[dict], provider: str) -> list[tuple[int | None, int | None]]:
    """Pair client and upstream message requests in order. When the counts differ (the gateway refused or
    answered a request itself, or retried one), a request whose shape (messages, tools) matches no later request
    on the other side is left unpaired instead of shifting every later pair."""
    if len(cm) == len(um):
        return [(i, i) for i in range(len(cm))]
    cs = [_shape(c, "client", provider) for c in cm]
    us = [_shape(u, provider) for u in um]
    pairs: list[tuple[int | None, int | None]] = []
    i = j = 0
    while i < len(cm) and j < len(um):
        if cs[i] == us[j] or cs[i] is None or us[j] is None:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif us[j] in cs[i + 1:]:
            pairs.append((i, None))  # this client request never reached the provider
            i += 1
        else:
            pairs.append((None, j))  # the gateway sent something the client did not (a retry, a sub-request)
            j += 1
    pairs += [(k, None) for k in range(i, len(cm))] + [(None, k) for k in range(j, len(um))]
    return pairs


def _summary(capture: dict[str, Any]) -> dict[str, Any]:
    return {"method": capture.get("method"), "path": capture.get("path")}


def compare_run(
    client_captures: list[dict[str, Any]],
    upstream_captures: list[dict[str, Any]],
    provider: str,
    tier: str | None,
    litellm_version: str | None,
    rules: RuleSet,
    expected_upstream_model: str | None = None,
) -> FidelityResult:
    """All requests of one CLI run: message-creating requests paired in order (turn 1 ↔ turn 1, ...), count_tokens
    requests paired in order only when both sides have them; one result merged over turns, record paths prefixed
    ``turn[i].`` / ``count_tokens[i].``. A turn on one side only is a ``lost``/``added`` record ``turn[i]``."""
    notes: list[str] = []
    cm = [c for c in client_captures if request_kind(c, "client", provider) == "message"]
    um = [c for c in upstream_captures if request_kind(c, provider) == "message"]
    cc = [c for c in client_captures if request_kind(c, "client", provider) == "count_tokens"]
    uc = [c for c in upstream_captures if request_kind(c, provider) == "count_tokens"]
    records: list[DiffRecord] = []

    def prefixed(prefix: str, recs: list[DiffRecord]) -> list[DiffRecord]:
        return [r.model_copy(update={"path": f"{prefix}.{r.path}"}) for r in recs]

    for i, (ci, ui) in enumerate(_pair_turns(cm, um, provider)):
        if ci is not None and ui is not None:
            recs = _compare_records(cm[ci], um[ui], provider, tier, litellm_version, rules, expected_upstream_model)
            records.extend(prefixed(f"turn[{i}]", recs))
        elif ci is not None:
            records.append(DiffRecord(path=f"turn[{i}]", kind="lost", before=_summary(cm[ci]),
                                      reason="this client request never reached the provider"))
        else:
            records.append(DiffRecord(path=f"turn[{i}]", kind="added", after=_summary(um[ui])))
    if cc and uc:
        for i in range(max(len(cc), len(uc))):
            if i < len(cc) and i < len(uc):
                recs = _compare_records(cc[i], uc[i], provider, tier, litellm_version, rules, expected_upstream_model)
                records.extend(prefixed(f"count_tokens[{i}]", recs))
            elif i < len(cc):
                records.append(DiffRecord(path=f"count_tokens[{i}]", kind="lost", before=_summary(cc[i])))
            else:
                records.append(DiffRecord(path=f"count_tokens[{i}]", kind="added", after=_summary(uc[i])))
    elif cc or uc:
        notes.append(f"count_tokens not compared: client sent {len(cc)}, upstream received {len(uc)}")
    if not (cm or cc) or not (um or uc):
        # Nothing to compare on one side: no verdict can be drawn, and "clean" would be a lie.
        side = ("the client side (the recorder captured no request)" if not (cm or cc)
                else "the provider side (no request reached the provider)")
        if not (cm or cc) and not (um or uc):
            side = "either side"
        return FidelityResult(verdict="unknown", records=records, turns=0,
                              notes=notes + [f"nothing captured on {side}: fidelity not judged"])
    # Records still unexplained go through the rules again with their prefixed paths, so a rule may target one
    # kind of request (e.g. `count_tokens[*].sampling.max_tokens`); turn-level records too (a documented retry).
    turn_level = [r for r in records if r.rule is None and r.status != "expected"]
    if turn_level:
        applied = {id(r): a for r, a in zip(turn_level, rules.apply(turn_level, provider, tier, litellm_version))}
        records = [applied.get(id(r), r) for r in records]
    return _result(records, turns=min(len(cm), len(um)), notes=notes)


__all__ = ["FidelityResult", "compare", "compare_run", "request_kind", "verdict_of", "brief"]
