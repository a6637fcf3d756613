"""An instance satisfying a JSON schema (for output_format / output_config.format / the CLI's StructuredOutput tool)."""
from __future__ import annotations


def instance(schema, hint: str = "", _depth: int = 0):
    if not isinstance(schema, dict) or _depth > 8:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return instance(schema[key][0], hint, _depth + 1)
    if schema.get("allOf"):
        merged = {}
        for s in schema["allOf"]:
            merged.update(s)
        return instance(merged, hint, _depth + 1)
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null")
    if t is None:
        t = "object" if "properties" in schema else "string"
    if t == "object":
        props = schema.get("properties", {})
        required = schema.get("required", list(props))
        return {k: instance(props.get(k, {}), k, _depth + 1) for k in props if k in required or _depth == 0}
    if t == "array":
        n = max(1, schema.get("minItems", 1))
        return [instance(schema.get("items", {}), hint, _depth + 1) for _ in range(n)]
    if t == "integer":
        lo = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1 if "exclusiveMinimum" in schema else 1)
        hi = schema.get("maximum")
        return int(min(lo, hi) if hi is not None else lo)
    if t == "number":
        lo = schema.get("minimum", 1.5)
        hi = schema.get("maximum")
        return min(lo, hi) if hi is not None else lo
    if t == "boolean":
        return True
    if t == "null":
        return None
    s = (hint or "value").replace("_", " ")
    lo, hi = schema.get("minLength", 0), schema.get("maxLength")
    s = s.ljust(lo, "x")
    return s[:hi] if hi else s
