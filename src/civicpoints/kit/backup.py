"""Backup archives: one tar file holding the database, the uploaded photos and a manifest.

An archive (docs/operations.md, "Backups and restore") is a plain POSIX tar:

    database/civicpoints.pgdump      pg_dump --format=custom (PostgreSQL), or
    database/civicpoints.sqlite3     a copy made with SQLite's online backup API
    uploads/ab/cd/<sha256>.<ext>     every photo, content-addressed as under var/uploads
    manifest.json                    last: format, versions, checkpoint, key metadata, files

The manifest lists every other member with its SHA-256 and size; `read_archive` accepts an
archive only if its members are exactly those, each of a strict shape (no absolute path, no
"..", no link or device), each matching its checksum, and each photo's content matching the
hash in its name. Private keys are never members: the manifest holds public metadata only
(vkeys, key ids). The archive is written to a temporary file, fsynced, then renamed (mode 0600:
it holds encrypted personal information).

Database dumps and restores shell out to PostgreSQL's own client tools (pg_dump, pg_restore,
psql); nothing here prints their output beyond the first error line, cut short, since a failed
COPY may quote a row.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import make_url

from civicpoints.kit.files import fsync_dir

FORMAT = "civicpoints-backup-v1"
MANIFEST = "manifest.json"
PG_DUMP = "database/civicpoints.pgdump"
SQLITE_COPY = "database/civicpoints.sqlite3"
UPLOADS = "uploads/"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024  # ~300,000 photos' lines; a larger one is refused
MAX_MEMBERS = 2_000_000
CHUNK = 1024 * 1024

_BLOB = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})\.[a-z0-9]{1,8}")
_SHA = re.compile(r"[0-9a-f]{64}")


class BackupError(Exception):
    """Why a backup or restore stops, in zh-CN and English (never quoting a secret or a row)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


# --- member names ------------------------------------------------------------------------


def is_blob_path(relative: str) -> bool:
    """True for "ab/cd/<sha256>.<ext>" whose prefix agrees with the hash (uploads' layout)."""
    match = _BLOB.fullmatch(relative)
    return match is not None and match[3][:4] == match[1] + match[2]


def blob_hash(relative: str) -> str:
    """The SHA-256 a content-addressed blob path names."""
    return relative.rsplit("/", 1)[1].split(".", 1)[0]


def check_member_name(name: str) -> None:
    """BackupError unless `name` is one an archive may hold (this rules out path traversal)."""
    if name.startswith("/") or "\\" in name or ".." in name.split("/") or "\0" in name:
        raise BackupError(
            f"归档含有不安全的路径 {name[:120]!r}（绝对路径或 ..），已拒绝",
            f"the archive holds an unsafe member path {name[:120]!r} (absolute or ..): refused",
        )
    if name in (MANIFEST, PG_DUMP, SQLITE_COPY):
        return
    if name.startswith(UPLOADS) and is_blob_path(name[len(UPLOADS) :]):
        return
    raise BackupError(
        f"归档含有未知成员 {name[:120]!r}，已拒绝",
        f"the archive holds an unexpected member {name[:120]!r}: refused",
    )


# --- hashing -----------------------------------------------------------------------------


class _Hashing:
    """A read-only file wrapper that hashes what is read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.sha, self.size = raw, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


# --- writing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One archive member: its name, checksum and size."""

    name: str
    sha256: str
    size: int

    def as_json(self) -> dict[str, Any]:
        """The manifest's line for it."""
        return {"name": self.name, "sha256": self.sha256, "size": self.size}


class ArchiveWriter:
    """Writes an archive to a temporary file beside `target`; `commit` renames it into place."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.temp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(fd, 0o600)  # the umask may only narrow the mode; make it exact
        self.file = os.fdopen(fd, "wb")
        self.tar = tarfile.open(  # noqa: SIM115 (closed by commit or abort)
            fileobj=self.file, mode="w", format=tarfile.PAX_FORMAT
        )
        self.entries: list[Entry] = []

    def add_file(self, name: str, path: Path) -> Entry:
        """Add a regular file (never following a link) as `name`; its checksum is taken as read."""
        check_member_name(name)
        st = path.lstat()
        if not path.is_file() or path.is_symlink():
            raise BackupError(f"{path} 不是普通文件", f"{path} is not a regular file")
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = st.st_size, int(st.st_mtime), 0o600
        with path.open("rb") as f:
            hashing = _Hashing(f)
            self.tar.addfile(info, hashing)
        entry = Entry(name, hashing.sha.hexdigest(), hashing.size)
        self.entries.append(entry)
        return entry

    def commit(self, manifest: dict[str, Any]) -> Path:
        """Add the manifest (listing every member) last, flush to disk, rename into place."""
        doc = {**manifest, "files": [e.as_json() for e in self.entries]}
        data = (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode("utf-8")
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode = len(data), 0o600
        info.mtime = int(os.path.getmtime(self.temp))
        self.tar.addfile(info, io.BytesIO(data))
        self.tar.close()
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.temp, self.target)
        fsync_dir(self.target.parent)
        return self.target

    def abort(self) -> None:
        """Drop the temporary file (nothing is left behind)."""
        with contextlib.suppress(Exception):
            self.tar.close()
        with contextlib.suppress(Exception):
            self.file.close()
        self.temp.unlink(missing_ok=True)


# --- reading -----------------------------------------------------------------------------


@dataclass
class Archive:
    """A verified archive: its manifest and the members' checksums."""

    path: Path
    manifest: dict[str, Any]
    files: dict[str, Entry]

    @property
    def photos(self) -> list[Entry]:
        """The uploads members."""
        return [e for n, e in sorted(self.files.items()) if n.startswith(UPLOADS)]

    @property
    def database(self) -> Entry:
        """The database member."""
        for name in (PG_DUMP, SQLITE_COPY):
            if name in self.files:
                return self.files[name]
        raise BackupError("归档中没有数据库", "the archive holds no database")


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """The members, each checked for its name and type, at most MAX_MEMBERS of them."""
    for count, member in enumerate(tar, start=1):
        if count > MAX_MEMBERS:
            raise BackupError("归档成员过多", f"the archive has more than {MAX_MEMBERS} members")
        check_member_name(member.name)
        if not member.isreg():
            raise BackupError(
                f"归档成员 {member.name!r} 不是普通文件（链接或设备），已拒绝",
                f"archive member {member.name!r} is not a regular file (a link or device): refused",
            )
        yield member


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:*")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(
            f"无法读取归档 {path}（{type(exc).__name__}）",
            f"cannot read the archive {path} ({type(exc).__name__})",
        ) from None


def _parse_manifest(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BackupError(
            "清单不是 CivicPoints 备份清单", f"the manifest is not a {FORMAT} manifest"
        )
    _check_fields(doc)
    files = doc.get("files")
    if not isinstance(files, list):
        raise BackupError("清单缺少文件列表", "the manifest lists no files")
    for f in files:
        if not (
            isinstance(f, dict)
            and isinstance(f.get("name"), str)
            and isinstance(f.get("sha256"), str)
            and _SHA.fullmatch(f["sha256"])
            and isinstance(f.get("size"), int)
        ):
            raise BackupError("清单的文件条目格式错误", "a file line of the manifest is malformed")
        check_member_name(f["name"])
    return doc


def _check_fields(doc: dict[str, Any]) -> None:
    """The manifest's fields have the types restore relies on (a crafted one may not)."""
    cp = doc.get("checkpoint")
    keys = doc.get("keys")
    pii = keys.get("pii") if isinstance(keys, dict) else None
    in_use = pii.get("in_use") if isinstance(pii, dict) else None
    good = (
        doc.get("engine") in ("postgresql", "sqlite")
        and isinstance(doc.get("migration_revision"), str | None)
        and type(doc.get("pg_dump_major")) in (int, type(None))
        and isinstance(cp, dict)
        and (
            not cp
            or (
                isinstance(cp.get("note"), str)
                and type(cp.get("size")) is int
                and isinstance(cp.get("root_hash"), str)
            )
        )
        and isinstance(keys, dict)
        and isinstance(pii, dict)
        and isinstance(keys.get("signing"), dict)
        and isinstance(in_use, dict)
        and all(isinstance(k, str) and type(n) is int for k, n in in_use.items())
    )
    if not good:
        raise BackupError("清单字段格式错误", "the manifest's fields are malformed")


def read_archive(path: Path, on_member: Callable[[int], None] | None = None) -> Archive:
    """Read the whole archive once, writing nothing: every member must be listed in the
    manifest with the size and SHA-256 it really has, and every photo must hash to its name."""
    seen: dict[str, Entry] = {}
    manifest: dict[str, Any] | None = None
    with _open(path) as tar:
        try:
            for member in _members(tar):
                if member.name in seen or (member.name == MANIFEST and manifest is not None):
                    raise BackupError(
                        f"归档成员 {member.name!r} 重复", f"archive member {member.name!r} repeats"
                    )
                if member.name == MANIFEST:
                    if member.size > MAX_MANIFEST_BYTES:
                        raise BackupError(
                            "清单过大，已拒绝",
                            f"the manifest is larger than {MAX_MANIFEST_BYTES} bytes: refused",
                        )
                    reader = tar.extractfile(member)
                    assert reader is not None
                    manifest = _parse_manifest(reader.read(MAX_MANIFEST_BYTES + 1))
                    continue
                sha, size = _hash_member(tar, member)
                seen[member.name] = Entry(member.name, sha, size)
                if on_member:
                    on_member(size)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BackupError(
                f"归档已损坏或被截断（{type(exc).__name__}）",
                f"the archive is damaged or truncated ({type(exc).__name__})",
            ) from None
    if manifest is None:
        raise BackupError("归档中没有清单", "the archive has no manifest.json")
    listed = {f["name"]: Entry(f["name"], f["sha256"], f["size"]) for f in manifest["files"]}
    _compare(listed, seen)
    return Archive(path, manifest, seen)


def _hash_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> tuple[str, int]:
    reader = tar.extractfile(member)
    assert reader is not None
    sha, size = hashlib.sha256(), 0
    while chunk := reader.read(CHUNK):
        sha.update(chunk)
        size += len(chunk)
    return sha.hexdigest(), size


def _compare(listed: dict[str, Entry], seen: dict[str, Entry]) -> None:
    """Refuse unless the members are exactly the manifest's, each with its checksum."""
    for name in sorted(set(listed) | set(seen)):
        want, got = listed.get(name), seen.get(name)
        if want is None:
            raise BackupError(
                f"归档成员 {name!r} 不在清单中", f"archive member {name!r} is not in the manifest"
            )
        if got is None:
            raise BackupError(
                f"清单中的 {name!r} 不在归档中", f"{name!r} is in the manifest, not in the archive"
            )
        if (got.sha256, got.size) != (want.sha256, want.size):
            raise BackupError(
                f"{name!r} 的校验和不符（归档被篡改或损坏），未写入任何内容",
                f"{name!r} does not match its checksum (tampered or damaged): nothing written",
            )
        if name.startswith(UPLOADS) and blob_hash(name[len(UPLOADS) :]) != got.sha256:
            raise BackupError(
                f"照片 {name!r} 的内容与其哈希名不符", f"photo {name!r} does not hash to its name"
            )


def extract(
    archive: Archive, staging: Path, on_member: Callable[[int], None] | None = None
) -> None:
    """Write every member under `staging` (a fresh private directory), checking each again
    against the checksums read before (the file could have changed since)."""
    with _open(archive.path) as tar:
        for member in _members(tar):
            if member.name == MANIFEST:
                continue
            want = archive.files.get(member.name)
            if want is None:
                raise BackupError("归档在读取期间被改动", "the archive changed while being read")
            target = staging / member.name
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            reader = tar.extractfile(member)
            assert reader is not None
            sha = hashlib.sha256()
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                while chunk := reader.read(CHUNK):
                    sha.update(chunk)
                    out.write(chunk)
            if sha.hexdigest() != want.sha256:
                raise BackupError("归档在读取期间被改动", "the archive changed while being read")
            if on_member:
                on_member(want.size)


# --- databases ---------------------------------------------------------------------------


def engine_of(url: str) -> str:
    """ "postgresql" or "sqlite" for a database URL."""
    name = make_url(url).get_backend_name()
    if name not in ("postgresql", "sqlite"):
        raise BackupError(f"不支持的数据库 {name}", f"unsupported database {name}")
    return name


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL (an in-memory database cannot be backed up or restored)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("SQLite 数据库须为文件", "the SQLite database must be a file")
    return Path(database)


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy a live SQLite database with the online backup API (a consistent snapshot)."""
    if not source.is_file():
        raise BackupError(f"没有数据库文件 {source}", f"no database file at {source}")
    src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=4096)  # in steps: writers are not held up for the whole copy
    finally:
        dst.close()
        src.close()
    os.chmod(target, 0o600)


def sqlite_is_empty(path: Path) -> bool:
    """True when no file is there or it holds no table."""
    if not path.exists():
        return True
    con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return int(con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]) == 0
    finally:
        con.close()


def sqlite_restore(source: Path, target: Path) -> None:
    """Replace the target database's content by the source's, in one step of the backup API."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


@dataclass(frozen=True)
class PgTools:
    """The PostgreSQL client programs in use and their major version."""

    bin_dir: Path | None
    major: int

    def program(self, name: str) -> str:
        """The path of pg_dump, pg_restore or psql; BackupError if it is not installed."""
        found = shutil.which(name, path=str(self.bin_dir) if self.bin_dir else None)
        if found is None:
            raise _missing(name)
        return found


def _missing(name: str) -> BackupError:
    return BackupError(
        f"找不到 {name}：请安装 PostgreSQL 客户端（如 apt-get install postgresql-client）"
        "或用 --pg-bin 指定其目录",
        f"{name} not found: install the PostgreSQL client tools (e.g. apt-get install "
        "postgresql-client) or point --pg-bin at their directory",
    )


def pg_tools(bin_dir: Path | None, needed: tuple[str, ...]) -> PgTools:
    """The client tools named by `needed`, all present, and their major version."""
    majors = set()
    for name in needed:
        found = shutil.which(name, path=str(bin_dir) if bin_dir else None)
        if found is None:
            raise _missing(name)
        out = subprocess.run(
            [found, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
        match = re.search(r"\b(\d+)(?:\.\d+)?", out)
        if match is None:
            raise BackupError(f"无法识别 {name} 的版本", f"cannot tell {name}'s version")
        majors.add(int(match[1]))
    return PgTools(bin_dir, min(majors))


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment carrying it (so it
    never shows in the process list)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _first_error(stderr: str) -> str:
    """The first ERROR/FATAL line of a client's output, cut short (a COPY error quotes rows)."""
    for line in stderr.splitlines():
        for tag in ("ERROR:", "FATAL:", "error:", "fatal:"):
            if tag in line:
                return line[line.index(tag) :][:200]
    return stderr.strip().splitlines()[0][:200] if stderr.strip() else "(no message)"


def pg_dump(tools: PgTools, url: str, target: Path) -> None:
    """pg_dump --format=custom: one consistent snapshot of the whole database."""
    dbname, env = libpq_target(url)
    args = [tools.program("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
    done = subprocess.run(
        [*args, f"--file={target}", f"--dbname={dbname}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupError(
            f"pg_dump 失败：{_first_error(done.stderr)}",
            f"pg_dump failed: {_first_error(done.stderr)}",
        )
    os.chmod(target, 0o600)


def pg_is_empty(url: str) -> bool:
    """True when the database holds no table, view or sequence outside the system schemas."""
    import psycopg

    dbname, env = libpq_target(url)
    with psycopg.connect(dbname, password=env.get("PGPASSWORD"), connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"
        ).fetchone()
    return row is not None and int(row[0]) == 0


def pg_other_sessions(url: str) -> int:
    """How many other sessions are connected to the database (a server still running?)."""
    import psycopg

    dbname, env = libpq_target(url)
    with psycopg.connect(dbname, password=env.get("PGPASSWORD"), connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return 0 if row is None else int(row[0])


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` archives this command named in `directory`."""
    archives = sorted(directory.glob("civicpoints-backup-*Z.tar"))
    doomed = archives[:-keep] if keep > 0 else []
    for path in doomed:
        path.unlink()
    if doomed:
        fsync_dir(directory)
    return doomed


def pg_server_major(url: str) -> int:
    """The PostgreSQL server's major version."""
    import psycopg

    dbname, env = libpq_target(url)
    with psycopg.connect(dbname, password=env.get("PGPASSWORD"), connect_timeout=10) as conn:
        return int(conn.info.server_version) // 10000


def pg_restore(tools: PgTools, url: str, dump: Path, replace: bool) -> None:
    """Load a custom-format dump in ONE transaction (psql -1): on any error nothing changes.
    With `replace`, the public schema is dropped and recreated first, in that same transaction."""
    dbname, env = libpq_target(url)
    script = subprocess.Popen(
        [tools.program("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(dump)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    prelude = "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;" if replace else ""
    psql = [tools.program("psql"), "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", f"--dbname={dbname}"]
    if prelude:
        psql += ["-c", prelude]
    loaded = subprocess.run(
        [*psql, "-f", "-"],
        stdin=script.stdout,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    assert script.stdout is not None and script.stderr is not None
    script.stdout.close()
    dump_err = script.stderr.read().decode("utf-8", "replace")
    script.wait()
    if script.returncode != 0:
        raise BackupError(
            f"pg_restore 失败：{_first_error(dump_err)}",
            f"pg_restore failed: {_first_error(dump_err)}",
        )
    if loaded.returncode != 0:
        raise BackupError(
            f"恢复数据库失败，已回滚：{_first_error(loaded.stderr)}",
            f"loading the database failed and was rolled back: {_first_error(loaded.stderr)}",
        )
