"""CruddurFlask: Flask with its per-request coroutine checks remembered, boundedly."""

from __future__ import annotations

from cruddur import CruddurFlask


def test_a_plain_function_is_checked_once_and_anything_else_every_time(monkeypatch):
    app = CruddurFlask(__name__)
    asked = []
    real = CruddurFlask.__mro__[1].ensure_sync

    def counting(self, func):
        asked.append(func)
        return real(self, func)

    monkeypatch.setattr(CruddurFlask.__mro__[1], "ensure_sync", counting)

    def view():
        return "plain"

    class Hooks:
        def method(self):
            return "bound"

    bound = Hooks().method
    assert app.ensure_sync(view) is view and app.ensure_sync(view) is view
    assert asked == [view]  # the second call was remembered
    app.ensure_sync(bound), app.ensure_sync(bound)
    assert asked == [view, bound, bound]  # a bound method is asked about every time, as Flask does


def test_the_memo_is_bounded_so_functions_made_per_request_are_never_kept():
    app = CruddurFlask(__name__)
    app.ENSURED = 3
    for _ in range(10):

        def made_per_request(response):
            return response

        assert app.ensure_sync(made_per_request) is made_per_request
    assert len(app._ensured) == 3
