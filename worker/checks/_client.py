"""What the CLI itself sent the gateway: the JSON bodies of its requests, from the recorder's capture."""
from __future__ import annotations


def client_bodies(ctx, model_calls_only: bool = False) -> list[dict]:
    """The JSON body of every POST the CLI sent the gateway (unreadable ones skipped); with `model_calls_only`, only
    the model calls (bodies with `messages`, so count_tokens-like side requests without them are left out)."""
    from providers._wire.capture import parse_body

    bodies = []
    for capture in ctx.client_reader():
        if capture.get("method") != "POST":
            continue
        try:
            body = parse_body(capture.get("body"))
        except ValueError:
            continue
        if isinstance(body, dict) and (not model_calls_only or "messages" in body):
            bodies.append(body)
    return bodies
