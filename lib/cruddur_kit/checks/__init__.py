"""Checks that catch deployment failures before and after they happen: lint (offline), verify
(live, read-only), diff (local vs deployed) and doctor (why a deployed service misbehaves).

All four report through one model (.model): OK / WARN / NG / SKIP findings with file, JSON path and fix.
"""
