"""How uvicorn serves the app: no server banner, every log handler redacting secrets."""

from __future__ import annotations

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
