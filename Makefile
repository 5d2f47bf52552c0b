# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
BUILD_DIR  ?= build
DATA_DIR   ?= ./argus-data
LISTEN     ?= 127.0.0.1:7070
CTEST_ARGS ?=
AGPL       ?=

.PHONY: setup models configure build run test bench-http bench-tasks bench-objects bench-inference bench-ingest bench-io bench-webhooks bench-vector bench-filter format clean

setup:
	@bash scripts/setup.sh

# ONNX Runtime and the models, into models/ (ARGUS_MODEL_DIR). AGPL=1 adds the AGPL-3.0 ones,
# AGPL=0 removes them, no AGPL keeps the previous choice.
models:
	@AGPL=$(AGPL) bash scripts/models.sh

configure: setup
	@cmake --preset release >/dev/null

# Leaves the server binary at build/argus.
build: configure
	@cmake --build --preset release

run: build
	@bash scripts/run.sh "$(BUILD_DIR)/argus" "$(DATA_DIR)" "$(LISTEN)"

test: build
	@cd $(BUILD_DIR) && ctest -LE 'slow|gpu' -j2 --output-on-failure $(CTEST_ARGS)

bench-http: build
	@SETUP_BENCH=1 bash scripts/setup.sh
	@bash bench/http/run.sh

bench-tasks: build
	@SETUP_BENCH=1 bash scripts/setup.sh
	@bash bench/tasks/run.sh

bench-objects: build
	@SETUP_BENCH=1 bash scripts/setup.sh
	@bash bench/objects/run.sh

bench-inference: build
	@SETUP_BENCH=1 bash scripts/setup.sh
	@bash bench/inference/run.sh

bench-ingest: build
	@bash bench/ingest/run.sh

bench-vector: build
	@bash bench/vector/run.sh

bench-io: build
	@SETUP_BENCH=1 bash scripts/setup.sh
	@bash bench/io/run.sh

bench-webhooks: build
	@SETUP_BENCH=1 bash scripts/setup.sh
	@bash bench/webhooks/run.sh

bench-filter: build
	@bash bench/filter/run.sh

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	@rm -rf $(BUILD_DIR)
