"""The wire formats the providers speak, one codec each, and the one universal model they decode into.

    universal.py  UniversalRequest (what was asked) and Reply (what the emulator answers), provider-neutral
    messages.py   Anthropic Messages: anthropic, azure, and the bodies of bedrock_invoke and vertex_ai
    converse.py   Amazon Bedrock Converse
    framing.py    streaming frames: SSE events, AWS event-stream frames, how a reply is cut into deltas
    capture.py    reading a captured request: headers, body, path and query, beta lists

A provider package (providers/<id>/) adds its envelope — where its model, stream flag, API version and betas
travel (URL, header or body) — and its routes, credentials and errors.
"""
