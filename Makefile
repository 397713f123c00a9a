# decode-async: the whole set-up is `make run` or `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

SWIFT ?= swift
BUILD_FLAGS ?=
BIN := .build/debug/decode-async
BROKER_DISRUPTING_TESTS := AMQPRecoveryIntegrationTests|AMQPBlockedIntegrationTests

.PHONY: help run test bench dist lint format build stack-up stack-down stack-status check-swift

help:
	@echo "make run     start the local stack, build, run every service in one process"
	@echo "make test    start the local stack, build, run every test"
	@echo "make bench   run the benchmark commands"
	@echo "make dist    build the release tarball (dist/) and test it unpacked against the stack"
	@echo "make lint    swift format lint --strict"
	@echo "make stack-up | stack-down | stack-status"

check-swift:
	@command -v $(SWIFT) >/dev/null || { echo "make: swift is not on PATH; install Swift 6.2 or later (https://swift.org/install)" >&2; exit 1; }

stack-up:
	scripts/stack up

stack-down:
	scripts/stack down

stack-status:
	scripts/stack status

build: check-swift stack-up
	$(SWIFT) build $(BUILD_FLAGS)

run: build
	@eval "$$(scripts/stack env)" && exec $(BIN) serve

test: check-swift stack-up
	Tests/stack/test_stack.sh
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	@# Tests that stop, restart or block RabbitMQ run alone, after everything else.
	eval "$$(scripts/stack env)" && $(SWIFT) test --skip-build $(BUILD_FLAGS) --skip '$(BROKER_DISRUPTING_TESTS)'
	eval "$$(scripts/stack env)" && $(SWIFT) test --skip-build $(BUILD_FLAGS) --filter '$(BROKER_DISRUPTING_TESTS)'
	Tests/cli/test_serve.sh
	Tests/cli/test_amqp_cli.sh
	Tests/cli/test_email_cli.sh
	eval "$$(scripts/stack env)" && Tests/cli/test_sync_cli.sh
	eval "$$(scripts/stack env)" && .venv/bin/python Tests/cli/test_faults.py
	Tests/cli/test_walkthrough.sh
	.venv/bin/python Tests/cli/test_docs_match.py
	.venv/bin/python Tests/cli/test_api_docs.py
	eval "$$(scripts/stack env)" && .venv/bin/python Tests/browser/test_browser_client.py
	eval "$$(scripts/stack env)" && .venv/bin/python Tests/browser/test_console.py

bench: check-swift stack-up
	$(SWIFT) build -c release --product decode-async-bench $(BUILD_FLAGS)
	@scripts/bench

dist: check-swift stack-up
	scripts/dist
	Tests/dist/test_dist.sh "$$(ls -t dist/decode-async-*.tar.gz | head -n 1)"

lint: check-swift
	$(SWIFT) format lint --strict -r Sources Tests

format: check-swift
	$(SWIFT) format --in-place -r Sources Tests
