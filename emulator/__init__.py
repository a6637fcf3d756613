"""Offline emulator of five Claude upstreams (anthropic, bedrock_invoke, bedrock_converse, vertex_ai, azure).

Layout (after getmoto/moto): `server.py` routes paths to `dialects/<provider>.py` (wire: decode, validate,
encode), which call the one scripted model in `model.py` (state: caches, signatures) with a neutral request.
"""
