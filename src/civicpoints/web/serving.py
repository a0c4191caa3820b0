"""How uvicorn serves the app: no server banner, every log handler redacting secrets.

Logs are text for a laptop and one JSON object per line in production (docs/operations.md):
uvicorn's own lines, its access lines (target cleaned, client as its network) and every other
logger (the app's, the scheduler's), all through the redaction filter.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Literal

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from civicpoints.kit.logging import with_redaction


def log_config(log_format: Literal["json", "text"] = "text", level: str = "INFO") -> dict[str, Any]:
    """The `logging.config.dictConfig` of the server: uvicorn's, in JSON when asked, with the
    access filter and the redaction filter on every handler and the root logger on stderr."""
    config = copy.deepcopy(LOGGING_CONFIG)
    if log_format == "json":
        json_lines = {"()": "civicpoints.kit.logging.JsonFormatter"}
        config["formatters"] = {"default": dict(json_lines), "access": dict(json_lines)}
    config.setdefault("filters", {})["access"] = {"()": "civicpoints.kit.logging.AccessFields"}
    config["handlers"]["access"]["filters"] = ["access"]  # before "redact", added next
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        config["loggers"][name]["level"] = level
    config["root"] = {"handlers": ["default"], "level": level}
    # /readyz reads the database's revision through Alembic, which says so at INFO each time.
    # The scheduler's INFO lines (each job added, each run) repeat what `jobs_run` records.
    for quiet in ("alembic", "apscheduler"):
        config["loggers"][quiet] = {"level": "WARNING"}
    return with_redaction(config)


def server_config(
    app: Any,
    host: str,
    port: int,
    log_format: Literal["json", "text"] = "text",
    log_level: str = "INFO",
    **options: Any,
) -> uvicorn.Config:
    """The uvicorn config of `civicpoints serve` (and of the tests' live server)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        server_header=False,  # no "server: uvicorn" banner on any response
        log_config=log_config(log_format, log_level),
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
