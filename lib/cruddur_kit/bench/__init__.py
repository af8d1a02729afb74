"""Measuring the API: the stack on its own ports, wrk load from a separate process, the result table.

Shared by `bin/dev/bench` and the reliability suite (backend-flask/tests/reliability), which runs the
same gunicorn process the benchmark measures.
"""
