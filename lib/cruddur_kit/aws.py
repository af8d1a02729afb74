"""One factory builds the boto3 session and every client, honouring AWS_ENDPOINT_URL (boto3 reads it)."""
from __future__ import annotations

import os
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

DEFAULT_REGION = "us-east-1"


def session(region: str | None = None) -> boto3.Session:
    return boto3.Session(region_name=region or os.environ.get("AWS_DEFAULT_REGION")
                         or os.environ.get("AWS_REGION") or DEFAULT_REGION)


def client(service: str, region: str | None = None, **config):
    cfg = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 5}, **config)
    return session(region).client(service, config=cfg)


def is_loopback(url: str | None) -> bool:
    """True for an http(s) URL whose host is 127.0.0.1, localhost or ::1 (parsed, not a substring match)."""
    try:
        parts = urlsplit(url or "")
        return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost", "::1")
    except ValueError:
        return False


def is_emulator() -> bool:
    """True when AWS_ENDPOINT_URL points at a loopback emulator rather than real AWS."""
    return is_loopback(os.environ.get("AWS_ENDPOINT_URL"))
