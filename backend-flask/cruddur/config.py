"""Settings read from the environment once, inside the app factory (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import quote


class ConfigError(Exception):
    """A required setting is missing or malformed; the message names it."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


def _not_negative(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 0:
        raise ConfigError(f"{name} must be 0 (off) or more, got {value}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise ConfigError(f"{name} must be a number of seconds >= 0, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    connection_url: str
    aws_region: str
    cognito_user_pool_id: str
    cognito_client_id: str
    ddb_message_table: str = "cruddur-messages"
    aws_endpoint_url: str | None = None
    cognito_jwks_url: str | None = None  # derived when unset, see jwks_url
    cognito_issuer: str | None = None  # derived when unset, see issuer
    frontend_url: str | None = None
    backend_url: str | None = None
    db_pool_min: int = 1
    db_pool_max: int = 8
    db_wait_timeout: float = 1.5  # seconds a request waits for a pooled connection: 503 well within 2 s
    db_connect_timeout: int = 2
    db_statement_timeout_ms: int = 1500
    # How a pooled connection is checked on checkout (cruddur/db.py): a poll of its socket, and a round trip
    # only when the server has said something (true); or a round trip every time (false, psycopg_pool's own).
    db_check_quietly: bool = True
    aws_connect_timeout: float = 1.0
    aws_read_timeout: float = 2.0
    aws_max_attempts: int = 3
    jwks_timeout: float = 2.0
    jwks_min_refresh_seconds: float = 30.0
    auth_token_cache_size: int = 4096  # verified tokens remembered per process (cruddur/auth.py); 0 = off
    home_feed_cache_seconds: float = 1.0  # first pages of home, per process (cruddur/feed_cache.py); 0 = off
    search_cache_seconds: float = 1.0  # first pages of search, per term, per process (cruddur/feed_cache.py); 0 = off
    profile_count_cache_seconds: float = 1.0  # profiles' cruds_count, per process (cruddur/count_cache.py); 0 = off
    max_body_bytes: int = 65536  # a larger request body is a 413 (cruddur/body_limit.py)
    # Telemetry (cruddur/telemetry): X-Ray to the daemon sidecar, OTel configured by the OTEL_* variables.
    xray_enabled: bool = False
    xray_daemon_address: str = "127.0.0.1:2000"
    otel_enabled: bool = False
    service_name: str = "backend-flask"

    @property
    def issuer(self) -> str:
        # Cognito (and the local emulator) always issue the real AWS URL.
        return self.cognito_issuer or (
            f"https://cognito-idp.{self.aws_region}.amazonaws.com/{self.cognito_user_pool_id}"
        )

    @property
    def jwks_url(self) -> str:
        if self.cognito_jwks_url:
            return self.cognito_jwks_url
        if self.aws_endpoint_url:  # the local emulator serves the pool's keys here
            return f"{self.aws_endpoint_url.rstrip('/')}/{self.cognito_user_pool_id}/.well-known/jwks.json"
        return f"{self.issuer}/.well-known/jwks.json"

    @property
    def cors_origins(self) -> list[str]:
        """FRONTEND_URL (one origin, or several separated by commas) and BACKEND_URL; never "*"."""
        origins = [o.strip() for o in (self.frontend_url or "").split(",")] + [(self.backend_url or "").strip()]
        return [o.rstrip("/") for o in origins if o and o != "*"]

    @property
    def link_origin(self) -> str:
        """Where pagination links point: BACKEND_URL, or "" (links relative to the request)."""
        url = (self.backend_url or "").strip()
        return "" if url in ("", "*") else url.rstrip("/")

    def with_overrides(self, **changes) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        required = {
            "CONNECTION_URL": "connection_url",
            "AWS_DEFAULT_REGION": "aws_region",
            "AWS_COGNITO_USER_POOL_ID": "cognito_user_pool_id",
            "AWS_COGNITO_USER_POOL_CLIENT_ID": "cognito_client_id",
        }
        values = {}
        for name, attr in required.items():
            value = env.get(name) or (env.get("AWS_REGION") if name == "AWS_DEFAULT_REGION" else None)
            if name == "CONNECTION_URL" and not value:
                value = url_from_parts(env)
            if not value:
                raise ConfigError(f"missing required setting {name}: set it in the environment")
            values[attr] = value
        return cls(
            **values,
            ddb_message_table=env.get("DDB_MESSAGE_TABLE") or "cruddur-messages",
            aws_endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            cognito_jwks_url=env.get("AWS_COGNITO_JWKS_URL") or None,
            cognito_issuer=env.get("AWS_COGNITO_ISSUER") or None,
            frontend_url=env.get("FRONTEND_URL") or None,
            backend_url=env.get("BACKEND_URL") or None,
            db_pool_min=_int(env, "DB_POOL_MIN", 1),
            db_pool_max=_int(env, "DB_POOL_MAX", 8),
            db_statement_timeout_ms=_int(env, "DB_STATEMENT_TIMEOUT_MS", 1500),
            db_check_quietly=_flag(env, "DB_CHECK_QUIETLY") is not False,
            auth_token_cache_size=_not_negative(env, "AUTH_TOKEN_CACHE_SIZE", 4096),
            home_feed_cache_seconds=_seconds(env, "HOME_FEED_CACHE_SECONDS", 1.0),
            search_cache_seconds=_seconds(env, "SEARCH_CACHE_SECONDS", 1.0),
            profile_count_cache_seconds=_seconds(env, "PROFILE_COUNT_CACHE_SECONDS", 1.0),
            max_body_bytes=_positive(env, "MAX_REQUEST_BODY_BYTES", 65536),
            **_telemetry(env),
        )


PG_PARTS = ("PGHOST", "PGUSER", "PGPASSWORD", "PGDATABASE")


def url_from_parts(env: Mapping[str, str]) -> str | None:
    """CONNECTION_URL from libpq's PG* variables (ECS fills PGUSER/PGPASSWORD from the RDS-managed secret).

    None when none is set; a partial set names what is missing. User and password are percent-encoded:
    RDS-generated passwords contain characters (@ / : # ?) that would otherwise break the URL.
    """
    present = {name: env.get(name) for name in PG_PARTS if env.get(name)}
    if not present:
        return None
    missing = [name for name in PG_PARTS if name not in present]
    if missing:
        raise ConfigError(f"missing required setting {missing[0]}: set CONNECTION_URL, or all of {', '.join(PG_PARTS)}")
    port = env.get("PGPORT") or "5432"
    if not port.isdigit():
        raise ConfigError(f"PGPORT must be an integer, got {port!r}")
    user, password = quote(present["PGUSER"], safe=""), quote(present["PGPASSWORD"], safe="")
    return f"postgresql://{user}:{password}@{present['PGHOST']}:{port}/{quote(present['PGDATABASE'], safe='')}"


def _flag(env: Mapping[str, str], name: str) -> bool | None:
    """True/False for a boolean variable, None when unset or blank."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _telemetry(env: Mapping[str, str]) -> dict:
    # X-Ray is on when a daemon is named (the ECS sidecar) or AWS_XRAY_SDK_ENABLED=true; false always wins.
    xray = _flag(env, "AWS_XRAY_SDK_ENABLED")
    daemon = env.get("AWS_XRAY_DAEMON_ADDRESS") or None
    # OTel is on when an OTLP endpoint is named; the exporter itself reads the OTEL_* variables.
    otlp = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return {
        "xray_enabled": xray if xray is not None else daemon is not None,
        "xray_daemon_address": daemon or "127.0.0.1:2000",
        "otel_enabled": bool(otlp) and not _flag(env, "OTEL_SDK_DISABLED"),
        "service_name": env.get("OTEL_SERVICE_NAME") or "backend-flask",
    }
