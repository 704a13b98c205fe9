# Two commands on a fresh machine:  `make run` (set up, ingest if needed, serve the chat)
# and `make test` (set up, run the tests). Everything else here is what they call.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CONSTRAINTS := .ci/constraints.txt
STAMP := $(VENV)/.paperchat-installed
HOST ?= 127.0.0.1
PORT ?= 7860
REPLICAS ?= 2
CLUSTER_PORT ?= 8080
export HF_HUB_OFFLINE := 1

.PHONY: run test install browser axe haproxy cluster loadtest llm ingest eval bench clean

run: $(STAMP)
	$(VENV)/bin/paperchat ui --host $(HOST) --port $(PORT)

test: $(STAMP) browser axe haproxy
	$(PY) -m pytest -q -ra

install: $(STAMP)

# torch is installed first and pinned by the constraints file: an unpinned torch, pulled in by
# sentence-transformers, would download gigabytes of CUDA packages instead of the CPU build.
$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c $(CONSTRAINTS) torch==2.13.0
	$(PIP) install -q -c $(CONSTRAINTS) -e ".[test,scale]"
	# One-time ONNX export of the embedding model into ~/.cache/paperchat/onnx (else the first
	# ingest or question pays for it).
	$(PY) -m assistant.onnx_export
	# wordfreq's Zipf values as one SQLite table (assistant/zipf_table.py): questions then never
	# load wordfreq's seven lists.
	$(PY) -m assistant.zipf_table
	touch $@

# Real-browser tests use Debian's Chromium: Playwright cannot download its own browser here.
browser:
	@command -v chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium; }

# The accessibility audit in tests/test_ui_browser.py runs axe-core (from npm) inside Chromium.
AXE_DIR ?= $(HOME)/.cache/paperchat/npm
AXE_VERSION := 4.14.1
axe:
	@test -f $(AXE_DIR)/node_modules/axe-core/axe.min.js || { \
	  command -v npm >/dev/null || { apt-get update -q && apt-get install -y -q npm; }; \
	  npm install --no-save --no-audit --no-fund --loglevel=error --prefix $(AXE_DIR) axe-core@$(AXE_VERSION); }

# The cluster's front door is Debian's HAProxy (health checks, retries on another replica).
haproxy:
	@command -v haproxy >/dev/null || test -x /usr/sbin/haproxy || { apt-get update -q && apt-get install -y -q haproxy; }

# A Chroma server, REPLICAS chat replicas and HAProxy on 127.0.0.1:CLUSTER_PORT; Ctrl-C stops all.
cluster: $(STAMP) haproxy
	$(PY) -m deploy.cluster --replicas $(REPLICAS) --port $(CLUSTER_PORT)

# 100 simulated users for 40 s against a running `make cluster`, one replica killed after 15 s.
loadtest: $(STAMP)
	$(PY) -m deploy.loadtest --url http://127.0.0.1:$(CLUSTER_PORT) --users 100 --seconds 40 --kill-after 15

# Optional LLM path: builds llama-cpp-python once into ~/.cache/paperchat/wheels.
llm: $(STAMP)
	bash .ci/llm_setup.sh $(VENV)

ingest: $(STAMP)
	$(VENV)/bin/paperchat ingest

eval: $(STAMP)
	$(VENV)/bin/paperchat eval --baselines

bench: $(STAMP)
	$(PY) tests/benchmarks/bench_core.py

clean:
	rm -rf $(VENV) .paperchat
