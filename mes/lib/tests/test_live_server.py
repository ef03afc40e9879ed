"""The shared live server (mes/conftest.py) stops cleanly: a connection its client kept alive
is ended and its thread done before the database connection stops being shared, so no thread
is left to touch it afterwards (the "DatabaseWrapper objects created in a thread" warning)."""

from __future__ import annotations

import http.client
import threading
from typing import Any

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections

from mes.conftest import _ClosingLiveServerThread, _ClosingWSGIServer


def test_stopping_ends_the_connections_clients_kept_alive(transactional_db: Any) -> None:
    connection = connections["default"]
    thread = _ClosingLiveServerThread(
        "127.0.0.1", StaticFilesHandler, connections_override={"default": connection}
    )
    thread.daemon = True
    connection.inc_thread_sharing()
    thread.start()
    thread.is_ready.wait()
    assert thread.error is None
    seen: list[BaseException | None] = []
    previous_hook = threading.excepthook
    threading.excepthook = lambda args: seen.append(args.exc_value)
    client = http.client.HTTPConnection("127.0.0.1", thread.port, timeout=30)
    try:
        client.request("GET", "/healthz")
        response = client.getresponse()
        response.read()
        assert response.status == 200
        assert response.getheader("Connection") != "close"  # kept alive by the client
        # This server's thread for the connection waits for the client's next request.
        assert isinstance(thread.httpd, _ClosingWSGIServer)
        serving = list(thread.httpd._open.values())
        assert len(serving) == 1 and serving[0].is_alive()

        thread.terminate()
        connection.dec_thread_sharing()

        assert not any(t.is_alive() for t in serving)
    finally:
        client.close()
        threading.excepthook = previous_hook
    assert seen == []
