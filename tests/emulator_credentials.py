"""The credentials the emulator issues, gathered for tests (they live in the provider packages)."""
from providers._aws import AWS_ACCESS_KEY_ID, AWS_REGION, AWS_SECRET_ACCESS_KEY, BEDROCK_API_KEY  # noqa: F401
from providers.anthropic.credentials import API_KEY as ANTHROPIC_API_KEY  # noqa: F401
from providers.azure.credentials import API_KEY as AZURE_API_KEY  # noqa: F401
from providers.vertex_ai.credentials import LOCATION as VERTEX_LOCATION  # noqa: F401
from providers.vertex_ai.credentials import PROJECT as VERTEX_PROJECT  # noqa: F401
from providers.vertex_ai.credentials import service_account as vertex_service_account  # noqa: F401
