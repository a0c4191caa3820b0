"""How uvicorn serves the app: no server banner, every log handler redacting secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from civicpoints.kit.logging import with_redaction


def server_config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """The uvicorn config of `civicpoints serve` (and of the tests' live server)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        server_header=False,  # no "server: uvicorn" banner on any response
        log_config=with_redaction(LOGGING_CONFIG),
        **options,
    )


class BannerServer(uvicorn.Server):
    """A uvicorn server that says where it really listens once its sockets are bound."""

    def __init__(self, config: uvicorn.Config, banner: Callable[[str], None]) -> None:
        super().__init__(config)
        self.banner = banner

    async def startup(self, sockets: Any = None) -> None:
        """Start as uvicorn does, then call the banner with the base URL served."""
        await super().startup(sockets)
        if self.started and self.servers:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            if host in ("0.0.0.0", "::"):
                host = "127.0.0.1"  # reachable here; on the network use this machine's address
            shown = f"[{host}]" if ":" in host else host
            self.banner(f"http://{shown}:{port}")


def serve_workers(config: uvicorn.Config, banner: Callable[[str], None]) -> None:
    """`serve --workers N`: uvicorn's supervisor forks N processes on one bound socket.

    Each runs the app (its lifespan competes for the background work's lead: one runs it);
    SIGTERM to the supervisor is passed on and each finishes its requests in flight.
    """
    from uvicorn.supervisors import Multiprocess

    sock = config.bind_socket()
    host, port = sock.getsockname()[:2]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    banner(f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}")
    Multiprocess(config, sockets=[sock]).run()
