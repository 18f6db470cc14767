# Two commands: `make run` serves Loupe, `make test` builds and runs every test.
# Both install missing Debian packages first (scripts/install-deps, idempotent).
BUILD ?= build
PORT ?= 8080
HOST ?= 127.0.0.1
DATA_DIR ?= ./data
JOBS ?= $(shell nproc)

.PHONY: run test build deps bench clean tsan sanitize fuzz fuzz-parsers format

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOUPE_WERROR=ON

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/loupe serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

test: build fuzz-parsers
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900
	cd $(BUILD)-fuzz && FUZZ_SECONDS=5 ctest --output-on-failure -j $(JOBS) -L parser --timeout 300

bench: deps
	cmake -S . -B $(BUILD)-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOUPE_BUILD_BENCH=ON -DLOUPE_BUILD_TESTS=OFF
	cmake --build $(BUILD)-bench -j $(JOBS)
	bench/run_all.sh $(BUILD)-bench

# The C++ tests and the API, job and run tests (real concurrency over HTTP) under
# ThreadSanitizer, with assert()s on (no NDEBUG); a race or a broken invariant fails the
# run. Not part of `make test` (several times slower). -Wno-tsan: gcc warns that asio's
# atomic_thread_fence is invisible to TSan; its queues are guarded by mutexes as well.
tsan: deps
	cmake -S . -B $(BUILD)-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOUPE_WERROR=ON \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_FLAGS="-fsanitize=thread -Wno-tsan" \
	  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread"
	cmake --build $(BUILD)-tsan -j $(JOBS)
	cd $(BUILD)-tsan && LOUPE_TEST_SLOWDOWN=5 \
	  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --output-on-failure -j $(JOBS) --timeout 1800 -E 'browser_|thread_safety|FastText|Fashion|py_example'

# libFuzzer harnesses (fuzz/), built by clang with ASan and UBSan in $(BUILD)-fuzz. `make fuzz`
# builds every harness and runs each for FUZZ_SECONDS (FUZZ_ARGS adds libFuzzer flags);
# `make test` builds the parser harnesses only (not api_handlers and claas_import, whose store
# takes minutes more to compile) and runs each for 5 s. Findings: $(BUILD)-fuzz/fuzz-artifacts/.
FUZZ_SECONDS ?= 60
$(BUILD)-fuzz/build.ninja:
	cmake -S . -B $(BUILD)-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DLOUPE_BUILD_FUZZ=ON \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g"

fuzz-parsers: deps $(BUILD)-fuzz/build.ninja
	cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzz_parsers

fuzz: deps $(BUILD)-fuzz/build.ninja
	cmake --build $(BUILD)-fuzz -j $(JOBS)
	cd $(BUILD)-fuzz && FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --output-on-failure -j $(JOBS) -L fuzz \
	  --timeout $$(( $(FUZZ_SECONDS) + 600 ))

# The C++ unit tests and the Python API tests under AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer: the first report fails the run. Not part of `make test`.
# -Wno-maybe-uninitialized: with the sanitizers gcc 12 warns inside libstdc++'s <regex>.
# -fno-sanitize=vptr: UBSan's vptr check probes memory through a pipe, which cannot be made
# once the process is out of file descriptors (what http_limits_test provokes), and then
# reports a false "invalid vptr".
sanitize: deps
	cmake -S . -B $(BUILD)-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOUPE_WERROR=ON \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined \
	  -fno-sanitize=vptr -fno-sanitize-recover=all -fno-omit-frame-pointer -Wno-maybe-uninitialized" \
	  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && LOUPE_TEST_SLOWDOWN=3 \
	  ASAN_OPTIONS="detect_leaks=1 abort_on_error=1 detect_stack_use_after_return=1" \
	  UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1" \
	  ctest --output-on-failure -j $(JOBS) --timeout 1800 -E 'browser_|thread_safety'

# Formats what changed since the last commit (.clang-format); the tree is not reformatted wholesale.
format:
	git clang-format --extensions cc,h

clean:
	rm -rf $(BUILD) $(BUILD)-bench $(BUILD)-tsan $(BUILD)-fuzz $(BUILD)-asan
