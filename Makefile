# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
BUILD_DIR  ?= build
DATA_DIR   ?= ./argus-data
LISTEN     ?= 127.0.0.1:7070
CTEST_ARGS ?=

.PHONY: setup configure build run test bench-http bench-tasks bench-objects format clean

setup:
	@bash scripts/setup.sh

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

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	@rm -rf $(BUILD_DIR)
