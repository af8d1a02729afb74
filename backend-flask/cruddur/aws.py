"""AWS for the API: one boto3 Session per app makes the DynamoDB client; its failures become JSON.

Sessions and resources are not thread-safe, clients are: the client is shared by every request thread.
Timeouts are short and bounded (settings.aws_*), and throttling is retried with backoff by boto3's
"standard" retry mode, so an unreachable DynamoDB gives a 503 quickly instead of a hang.
"""

from __future__ import annotations

import logging

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from flask import Flask, current_app

from .config import Settings
from .errors import Unavailable, error_response

log = logging.getLogger("cruddur.aws")

# Codes that mean "DynamoDB cannot serve this right now" even after boto3's retries.
UNAVAILABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "ResourceNotFoundException",
}


def make_dynamodb(settings: Settings, attempts: int | None = None):
    session = boto3.session.Session(region_name=settings.aws_region)
    config = Config(
        connect_timeout=settings.aws_connect_timeout,
        read_timeout=settings.aws_read_timeout,
        # total_max_attempts counts the first try too (botocore's "max_attempts" counts only retries)
        retries={"mode": "standard", "total_max_attempts": attempts or settings.aws_max_attempts},
    )
    return session.client("dynamodb", endpoint_url=settings.aws_endpoint_url, config=config)


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions["dynamodb"] = make_dynamodb(settings)
    # One try per call: for sending a transaction whose answer was lost again, a few times, each bounded by
    # one read timeout (stores/messages.py), instead of boto3's full retries each time.
    app.extensions["dynamodb_single_try"] = make_dynamodb(settings, attempts=1)

    def unavailable():
        return error_response(Unavailable("dynamodb_unavailable"))

    @app.errorhandler(BotoConnectionError)  # connection refused, connect timeout
    @app.errorhandler(HTTPClientError)  # read timeout, dropped connection
    def dynamodb_unreachable(e):
        log.warning("dynamodb unreachable", extra={"error_type": type(e).__name__})
        return unavailable()

    @app.errorhandler(ClientError)
    def dynamodb_refused(e: ClientError):
        code = e.response.get("Error", {}).get("Code", "")
        if code in UNAVAILABLE_CODES:
            log.warning("dynamodb unavailable", extra={"error_type": code})
            return unavailable()
        # Anything else is a bug on our side: say which refusal it was (the 500 line only has a type),
        # then the generic handler logs it and answers 500 with an id.
        reasons = [r.get("Code") for r in e.response.get("CancellationReasons", [])]
        log.error(
            "dynamodb refused",
            extra={
                "error_type": code or "ClientError",
                "operation": e.operation_name,
                "cancellation_reasons": reasons or None,
            },
        )
        return app.handle_user_exception(RuntimeError(f"DynamoDB {e.operation_name} failed: {code}"))


def dynamodb(single_try: bool = False):
    """The app's DynamoDB client (the one that tries each call once, with `single_try`)."""
    return current_app.extensions["dynamodb_single_try" if single_try else "dynamodb"]
