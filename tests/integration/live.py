"""The app served by a real uvicorn on a free loopback port, for tests a TestClient could hide."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import httpx
import uvicorn
from fastapi import FastAPI

from civicpoints.kit.settings import Settings
from civicpoints.web.app import create_app
from civicpoints.web.serving import server_config


@contextmanager
def live_server(
    settings: Settings, app: FastAPI | None = None, log_format: Literal["json", "text"] = "text"
) -> Iterator[httpx.Client]:
    """Serve the app in a thread with the same config as `civicpoints serve`; yield a client."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level  # the server's logging config sets them
    config = server_config(app or create_app(settings), "127.0.0.1", port, log_format=log_format)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()
        root.handlers[:] = handlers
        root.setLevel(level)
