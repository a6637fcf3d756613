"""Structured outputs: `--json-schema` yields a structured_output that validates against the schema."""
from __future__ import annotations

import json

import jsonschema

from ccmatrix.outcomes import TierResult
from worker.check import CheckContext, CliCheck

SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 1},
        "population": {"type": "integer", "minimum": 0},
        "landmarks": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "coastal": {"type": "boolean"},
    },
    "required": ["city", "population", "landmarks", "coastal"],
    "additionalProperties": False,
}


VALID = "the CLI's structured_output validates against the schema"


class StructuredOutputs(CliCheck):
    decisive = (VALID,)
    def run(self, ctx: CheckContext) -> TierResult:
        run = ctx.run_cli("Describe the city of Lisbon: its name, population, a few landmarks, and whether it is "
                          "coastal.", args=["--json-schema", json.dumps(SCHEMA)])
        early = ctx.classify(run)
        if early is not None:
            return early
        value = run.result.structured_output
        if value is None:
            return ctx.failed(run, "the CLI reported no structured_output")
        try:
            jsonschema.validate(value, SCHEMA)
        except jsonschema.ValidationError as error:
            return ctx.failed(run, f"structured_output does not match the schema: {error.message}")
        ctx.asserted(VALID)
        if ctx.supporting("the schema reached the provider (as a tool or output_format)"):
            requests = ctx.upstream_requests()
            offered = any(t.input_schema and set(SCHEMA["required"]) <= set((t.input_schema or {}).get(
                "properties", {})) for r in requests for t in r.tools) or any(
                r.output_format is not None for r in requests)
            if not offered:
                return ctx.failed(run, "the schema never reached the provider (no tool or output_format carried it)")
        return ctx.passed(run, structured_output=value)


CHECK = StructuredOutputs()
