"""CONNECTION_URL built from libpq's PG* variables: what ECS gives the container with DB_CREDENTIALS=rds
(PGUSER/PGPASSWORD from the RDS-managed secret, PGHOST/PGPORT/PGDATABASE as plain environment)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from cruddur.config import ConfigError, Settings

BASE = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_COGNITO_USER_POOL_ID": "us-east-1_x",
    "AWS_COGNITO_USER_POOL_CLIENT_ID": "c",
}
# The characters RDS-generated passwords may contain that break a hand-built URL (Cruddur's entrypoint
# pasted the password in raw).
HARD = "p@ss/w:rd#1?%&=+ ~"
PARTS = {
    "PGHOST": "cruddur-db.abc.us-east-1.rds.amazonaws.com",
    "PGPORT": "5432",
    "PGUSER": "cruddurroot",
    "PGPASSWORD": HARD,
    "PGDATABASE": "cruddur",
}


def test_parts_make_a_url_that_parses_back_to_the_same_parts():
    """libpq's own parser (conninfo_to_dict) reads back every part; the raw password would not survive."""
    url = Settings.from_env({**BASE, **PARTS}).connection_url
    assert HARD not in url
    with pytest.raises(psycopg.ProgrammingError):  # what Cruddur's entrypoint built
        conninfo_to_dict(f"postgresql://cruddurroot:{HARD}@{PARTS['PGHOST']}:5432/cruddur")
    assert conninfo_to_dict(url) == {
        "host": PARTS["PGHOST"],
        "port": "5432",
        "user": "cruddurroot",
        "password": HARD,
        "dbname": "cruddur",
    }


def test_connection_url_wins_over_the_parts():
    url = "postgresql://u:p@127.0.0.1:5432/db"
    assert Settings.from_env({**BASE, **PARTS, "CONNECTION_URL": url}).connection_url == url


def test_port_defaults_to_5432():
    parts = {k: v for k, v in PARTS.items() if k != "PGPORT"}
    assert conninfo_to_dict(Settings.from_env({**BASE, **parts}).connection_url)["port"] == "5432"


@pytest.mark.parametrize("drop", ["PGHOST", "PGUSER", "PGPASSWORD", "PGDATABASE"])
def test_a_partial_set_names_the_missing_part(drop):
    parts = {k: v for k, v in PARTS.items() if k != drop}
    with pytest.raises(ConfigError, match=f"^missing required setting {drop}: set CONNECTION_URL, or all of"):
        Settings.from_env({**BASE, **parts})


def test_neither_names_connection_url():
    with pytest.raises(ConfigError, match="^missing required setting CONNECTION_URL: set it in the environment$"):
        Settings.from_env(BASE)
