# Two commands: `make run` serves Loupe, `make test` builds and runs every test.
# Both install missing Debian packages first (scripts/install-deps, idempotent).
BUILD ?= build
PORT ?= 8080
HOST ?= 127.0.0.1
DATA_DIR ?= ./data
JOBS ?= $(shell nproc)

.PHONY: run test build deps bench clean

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/loupe serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

bench: deps
	cmake -S . -B $(BUILD)-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOUPE_BUILD_BENCH=ON -DLOUPE_BUILD_TESTS=OFF
	cmake --build $(BUILD)-bench -j $(JOBS)
	bench/run_all.sh $(BUILD)-bench

clean:
	rm -rf $(BUILD) $(BUILD)-bench
