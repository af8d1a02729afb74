"""gunicorn's entry point: `gunicorn -c gunicorn.conf.py wsgi:app`. A missing setting stops start-up in one line."""

import sys

from cruddur import create_app
from cruddur.config import ConfigError

try:
    app = create_app()
except ConfigError as e:
    print(f"backend-flask: {e}", file=sys.stderr)
    sys.exit(1)
