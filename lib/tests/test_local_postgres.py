"""The embedded PostgreSQL starts wherever the repository was cloned, even under a 0700 directory."""

import os
import subprocess

from cruddur_kit.local import moto as motolib
from cruddur_kit.local import postgres as pglocal


def test_a_data_dir_the_postgres_user_cannot_reach_moves_somewhere_it_can(tmp_path):
    private = tmp_path / "clone"
    private.mkdir(mode=0o700)
    os.chmod(private, 0o700)
    server = pglocal.LocalServer(data_dir=private / ".local" / "postgres-x", port=motolib.free_port())
    if os.geteuid() == 0:  # as root the server runs as `postgres`, who cannot enter the 0700 clone
        assert not str(server.data_dir).startswith(str(private))
        assert server.data_dir.name == "postgres-x"
        # the same requested path finds the same data next time
        assert pglocal.LocalServer(data_dir=private / ".local" / "postgres-x").data_dir == server.data_dir
    else:  # as an ordinary user the server runs as that user, who owns the clone
        assert server.data_dir == private / ".local" / "postgres-x"
    try:
        assert server.start() is True
        assert pglocal.answers(server.url, timeout=5)
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(server.data_dir)], check=False)
