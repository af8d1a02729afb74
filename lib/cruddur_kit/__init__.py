"""The deployment and developer kit behind every bin/ script: one library, thin doors."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BACKEND = REPO_ROOT / "backend-flask"
AWS_JSON = REPO_ROOT / "aws" / "json"
LOCAL_DIR = REPO_ROOT / ".local"
