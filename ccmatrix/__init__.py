"""ccmatrix: the Claude Code × gateway × provider compatibility matrix."""
import os

# Any process of ours that might import litellm must not fetch the remote cost map.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

__version__ = "0.1.0"
