"""What a production start refuses (docs/operations.md, "Deployment"): a pure decision.

With CIVICPOINTS_ENV=production, `civicpoints serve` and `civicpoints worker` list every
problem below at once and exit before binding a port or touching the database:

- the database is SQLite (an empty CIVICPOINTS_DATABASE_URL means SQLite under var/);
- the `dev` identity provider (it verifies anyone);
- no PII key: neither CIVICPOINTS_PII_KEY nor an existing keyring file (the dev file
  var/keys/pii.key, which a laptop creates by itself, does not count);
- no checkpoint signing key named by CIVICPOINTS_LEDGER_KEY_FILE, or none at that path (the
  laptop's var/keys/ledger.skey is generated on first use; production never generates one).

Key files are never created in production whatever the command (kit/context.py,
ledger/keys.py); `civicpoints keys init` writes them once, on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from civicpoints.kit.settings import Settings


@dataclass(frozen=True)
class Problem:
    """One reason a production start is refused: the variable to set, in both languages."""

    variable: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.variable}: {self.zh} / {self.en}"


@dataclass(frozen=True)
class KeyFiles:
    """The file facts the decision needs: which key files exist."""

    pii_keyring: bool
    signing_key: bool

    @classmethod
    def of(cls, settings: Settings) -> KeyFiles:
        """Look on disk (a stat each) for the files the settings name."""
        return cls(
            pii_keyring=settings.pii_keyring_path.is_file(),
            signing_key=settings.ledger_key_file is not None and settings.ledger_key_file.is_file(),
        )


DEV_PROVIDER = Problem(
    "CIVICPOINTS_IDENTITY_PROVIDER",
    "dev 实名认证方式接受任何人，请设置为 in_person",
    "the `dev` identity provider accepts anyone: set it to in_person",
)


def production_problems(settings: Settings, files: KeyFiles) -> list[Problem]:
    """Every reason `settings` may not serve in production (none outside production)."""
    if settings.env != "production":
        return []
    problems: list[Problem] = []
    if not settings.resolved_database_url().startswith(("postgresql", "postgres:")):
        problems.append(
            Problem(
                "CIVICPOINTS_DATABASE_URL",
                "生产环境必须使用 PostgreSQL（未设置时默认是 SQLite）",
                "production needs PostgreSQL (postgresql://…); unset means SQLite",
            )
        )
    if settings.identity_provider == "dev":
        problems.append(DEV_PROVIDER)
    if not settings.pii_key and not files.pii_keyring:
        where = settings.pii_keyring_path
        problems.append(
            Problem(
                "CIVICPOINTS_PII_KEY",
                f"没有个人信息加密密钥：请设置 CIVICPOINTS_PII_KEY 或 CIVICPOINTS_PII_KEYRING_FILE"
                f"（{where} 不存在；开发用的 var/keys/pii.key 不算）",
                f"no PII key: set CIVICPOINTS_PII_KEY or CIVICPOINTS_PII_KEYRING_FILE ({where} "
                "does not exist; the development file var/keys/pii.key does not count)",
            )
        )
    if settings.ledger_key_file is None:
        problems.append(
            Problem(
                "CIVICPOINTS_LEDGER_KEY_FILE",
                "未指定检查点签名密钥文件（生产环境不会自动生成；用 `civicpoints keys init` 生成）",
                "no checkpoint signing key file named (production never generates one: "
                "create it with `civicpoints keys init`)",
            )
        )
    elif not files.signing_key:
        problems.append(
            Problem(
                "CIVICPOINTS_LEDGER_KEY_FILE",
                f"签名密钥文件 {settings.ledger_key_file} 不存在或不可读",
                f"the signing key file {settings.ledger_key_file} does not exist",
            )
        )
    return problems


def refuse_generating(settings: Settings, path: Path, zh: str, en: str) -> None:
    """Raise instead of creating a key file in production (a laptop creates it under var/)."""
    if settings.env == "production":
        raise KeyFileMissing(
            f"生产环境不会自动生成{zh}：{path} 不存在（用 `civicpoints keys init` 生成） / "
            f"production never generates the {en}: {path} does not exist "
            "(create it with `civicpoints keys init`)"
        )


class KeyFileMissing(RuntimeError):
    """A key file production needs is not there, and production never makes one."""
