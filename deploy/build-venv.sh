#!/bin/sh
# Builds CivicPoints into a new virtual environment at $1 from a checkout (the current
# directory): the wheel of this source, and the exact versions of uv.lock without the
# development tools, each checked against the lock's hashes. The container image's builder
# stage runs this (deploy/Dockerfile); so does tests/integration/test_deploy.py, and so does a
# bare server (docs/operations.md, "Deployment"). Needs uv ($UV, else `uv` on PATH), a Python
# 3.11 ($PYTHON, else python3.11) and PyPI (or a mirror set in UV_INDEX_URL).
#
#   deploy/build-venv.sh /opt/civicpoints
set -eu
target=${1:?"usage: deploy/build-venv.sh TARGET-DIR"}
uv=${UV:-uv}
python=${PYTHON:-python3.11}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

test -f uv.lock -a -f pyproject.toml || { echo "run from the repository root" >&2; exit 2; }
test ! -e "$target" || { echo "$target exists: choose a new directory" >&2; exit 2; }

# --frozen: exactly what uv.lock says; the lock is not re-resolved.
"$uv" export --quiet --frozen --no-dev --no-emit-project --format requirements-txt \
    -o "$work/requirements.txt"
"$uv" build --quiet --wheel --out-dir "$work/dist" .
"$python" -m venv "$target"
# --compile-bytecode: a read-only root filesystem cannot write __pycache__ at run time.
"$uv" pip install --quiet --python "$target/bin/python" --require-hashes --compile-bytecode \
    -r "$work/requirements.txt"
"$uv" pip install --quiet --python "$target/bin/python" --no-deps --compile-bytecode \
    "$work"/dist/civicpoints-*.whl
"$target/bin/civicpoints" --help >/dev/null
echo "built $target"
