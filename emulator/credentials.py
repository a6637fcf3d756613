"""Compatibility names, to be removed: the credentials the emulator issues live in the provider packages
(providers/anthropic/credentials.py, providers/azure/credentials.py, providers/_aws.py for both Bedrock APIs,
providers/vertex_ai/credentials.py). Kept for callers written before them (tests/integration)."""
from __future__ import annotations

from providers._aws import AWS_ACCESS_KEY_ID, AWS_REGION, AWS_SECRET_ACCESS_KEY, BEDROCK_API_KEY
from providers.anthropic.credentials import API_KEY as ANTHROPIC_API_KEY
from providers.azure.credentials import API_KEY as AZURE_API_KEY
from providers.vertex_ai.credentials import LOCATION as VERTEX_LOCATION
from providers.vertex_ai.credentials import PROJECT as VERTEX_PROJECT
from providers.vertex_ai.credentials import SA_CLIENT_EMAIL, public_key as vertex_public_key
from providers.vertex_ai.credentials import service_account as vertex_service_account

__all__ = ["ANTHROPIC_API_KEY", "AWS_ACCESS_KEY_ID", "AWS_REGION", "AWS_SECRET_ACCESS_KEY", "AZURE_API_KEY",
           "BEDROCK_API_KEY", "SA_CLIENT_EMAIL", "VERTEX_LOCATION", "VERTEX_PROJECT", "vertex_public_key",
           "vertex_service_account"]
