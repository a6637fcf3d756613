"""What the two Bedrock APIs (Invoke, Converse) share on the gateway side: AWS credentials and region."""
from __future__ import annotations

from typing import Any

SECRET_SETTINGS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
REAL_REQUIRES = ("aws_access_key_id", "aws_secret_access_key")


def aws_params(settings: Any, emulator_url: str | None) -> dict[str, Any]:
    """LiteLLM's AWS parameters: the settings' real credentials, or the emulator's (with its endpoint)."""
    if emulator_url is None:
        params = {
            "aws_access_key_id": settings.aws_access_key_id.get_secret_value(),
            "aws_secret_access_key": settings.aws_secret_access_key.get_secret_value(),
            "aws_region_name": settings.aws_region,
        }
        if settings.aws_session_token:
            params["aws_session_token"] = settings.aws_session_token.get_secret_value()
        return params
    from emulator import credentials as emu

    return {
        "aws_bedrock_runtime_endpoint": emulator_url,
        "aws_access_key_id": emu.AWS_ACCESS_KEY_ID,
        "aws_secret_access_key": emu.AWS_SECRET_ACCESS_KEY,
        "aws_region_name": emu.AWS_REGION,
    }
