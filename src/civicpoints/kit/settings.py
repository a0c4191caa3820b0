"""One typed settings object, read from `CIVICPOINTS_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable; defaults suit a laptop demo, production sets the env vars."""

    model_config = SettingsConfigDict(env_prefix="CIVICPOINTS_", env_file=".env", extra="ignore")

    var_dir: Path = Path("var")
    database_url: str = ""
    # Base64 32-byte master key for PII encryption; empty means a dev key file under var/.
    pii_key: str = ""
    # The PII keyring (JSON, mode 0600) that `keys rotate-pii` writes; once it exists it names
    # every readable key and the current one. Empty: var/keys/pii.keyring. docs/keys.md.
    pii_keyring_file: Path | None = None
    # Number of ledger buckets; fixed when the ledger is created (DESIGN.md §5).
    ledger_buckets: int = Field(default=1, ge=1, le=65536)
    # Checkpoints name their log by this origin (C2SP tlog-checkpoint); the signing key's name.
    ledger_origin: str = "hangzhou.civicpoints.example/ledger"
    # The checkpoint signing key (C2SP signed-note PRIVATE+KEY text); empty: generated under var/.
    ledger_key_file: Path | None = None
    # Public keys of retired checkpoint keys (vkey text) that the nightly verification trusts.
    ledger_trusted_vkeys: list[str] = Field(default_factory=list)
    # Seconds between sequencer passes of the background leader (0: none; jobs/background.py).
    sequencer_interval_s: float = Field(default=1.0, ge=0)
    # The longest an entry may wait for the sequencer before `ledger verify` calls it a fault.
    sequencer_max_lag_s: float = Field(default=300.0, gt=0)
    # Run the scheduled jobs (expiry, nightly verification) in the background leader.
    scheduler_enabled: bool = True
    # Where the background work (sequencer and scheduled jobs) runs (docs/operations.md):
    # "inline": every `serve` process competes for it and one at a time runs it (on PostgreSQL
    # the holder of an advisory lock); "off": never in `serve` — a `civicpoints worker` does it.
    background: Literal["inline", "off"] = "inline"
    # Seconds a standby waits between attempts to become the background leader.
    leader_poll_s: float = Field(default=5.0, gt=0)
    # For drills and tests only: run every scheduled job each N seconds instead of its cron time
    # (0: the cron times of jobs/schedule.py).
    jobs_every_s: float = Field(default=0.0, ge=0)
    # Seconds `serve` gives in-flight requests after SIGTERM before closing them.
    shutdown_grace_s: float = Field(default=30.0, gt=0)
    upload_max_bytes: int = 10 * 1024 * 1024
    # A CSV of paper slips imported through the API.
    import_max_bytes: int = 5 * 1024 * 1024
    # Any other request body (JSON): larger ones are refused before they are read.
    body_max_bytes: int = Field(default=64 * 1024, ge=1024)
    # Requests one server process works on at once; later ones wait their turn, in order, for
    # at most `request_queue_s` seconds, then are answered 503 (web/admission.py). The
    # database pool is sized from it; at most 32, under the 40 threads of the thread pool.
    requests_in_flight: int = Field(default=10, ge=1, le=32)
    request_queue_s: float = Field(default=20.0, gt=0, le=300)
    token_ttl_hours: int = 12
    identity_provider: str = "dev"
    # "production" refuses demo shortcuts such as the `dev` identity provider.
    env: Literal["development", "test", "production"] = "development"
    # Sign-in throttling (identity/ratelimit.py): failures per account before the delay starts,
    # the delay's ceiling, and failures one client address may make within the window.
    signin_free_failures: int = Field(default=5, ge=1)
    signin_delay_cap_s: float = Field(default=60.0, gt=0, le=3600)
    signin_address_failures: int = Field(default=50, ge=1)
    signin_address_window_s: float = Field(default=900.0, gt=0)
    timezone: str = "Asia/Shanghai"
    # Seconds an organizer's venue code (签到码) stays on the screen before it turns; issue 10
    # asks for 30-60 s. One value for the deployment: a check-in accepts this step's code and
    # the one before, so a change takes effect at the next start and costs a step at most.
    venue_code_step_s: int = Field(default=30, ge=30, le=60)
    # Days between a resident's deletion request and its erasure by `privacy erase-due` (an
    # administrator may carry it out sooner); docs/privacy.md.
    retention_deletion_days: int = Field(default=15, ge=0, le=365)
    # Operations (docs/operations.md). /readyz answers 503 while the oldest entry waiting for
    # the sequencer is older than this many seconds.
    ready_max_backlog_s: float = Field(default=300.0, ge=1, le=86400)
    # A bearer token that opens /metrics to a scraper on another host; empty: only clients
    # on this machine (127.0.0.1, ::1) may scrape. At least 16 characters when set.
    metrics_token: str = Field(default="", max_length=256)
    # Log lines as one JSON object each ("json") or as text; empty: JSON in production.
    log_format: Literal["", "json", "text"] = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Addresses or networks (comma-separated) of the reverse proxy whose X-Forwarded-For and
    # X-Forwarded-Proto `serve` believes (uvicorn's forwarded_allow_ips); "*" trusts anyone.
    forwarded_allow_ips: str = Field(default="127.0.0.1,::1", max_length=1024)

    @model_validator(mode="after")
    def _no_dev_shortcuts_in_production(self) -> Settings:
        """Production must not start with the demo identity provider (it verifies anyone)."""
        if self.env == "production" and self.identity_provider == "dev":
            raise ValueError(
                "CIVICPOINTS_ENV=production 不能使用 dev 实名认证方式，"
                "请设置 CIVICPOINTS_IDENTITY_PROVIDER（如 in_person）/ "
                "the `dev` identity provider accepts anyone and is refused in production: "
                "set CIVICPOINTS_IDENTITY_PROVIDER (e.g. in_person)"
            )
        if self.metrics_token and len(self.metrics_token) < 16:
            raise ValueError(
                "CIVICPOINTS_METRICS_TOKEN 至少 16 个字符 / must be at least 16 characters"
            )
        return self

    @property
    def resolved_log_format(self) -> Literal["json", "text"]:
        """The log format: as set, else JSON in production and text elsewhere."""
        if self.log_format:
            return self.log_format
        return "json" if self.env == "production" else "text"

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under `var_dir`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'civicpoints.db').as_posix()}"

    @property
    def signing_key_path(self) -> Path:
        """Where the checkpoint signing key is read (and, for a demo, created)."""
        return self.ledger_key_file or self.var_dir / "keys" / "ledger.skey"

    @property
    def pii_keyring_path(self) -> Path:
        """Where the PII keyring is read (and written by `keys rotate-pii`)."""
        return self.pii_keyring_file or self.var_dir / "keys" / "pii.keyring"

    @property
    def pii_key_path(self) -> Path:
        """The single PII key file of an installation without CIVICPOINTS_PII_KEY (dev)."""
        return self.var_dir / "keys" / "pii.key"

    @property
    def uploads_dir(self) -> Path:
        """Where evidence photos are stored, content-addressed."""
        return self.var_dir / "uploads"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own `Settings`)."""
    return Settings()
