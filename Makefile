# tessera: the two commands a new machine needs are `make demo` and `make test`.
BUILD ?= build

.PHONY: all deps build test test-arm64 test-large test-asan test-tsan fuzz demo bench check-fresh install-python clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
	@ninja -C $(BUILD)

test: build
	@ninja -C $(BUILD) tessera_tests tessera_runtime_tests tessera_large_tests
	@cd $(BUILD) && ctest --output-on-failure -j2 --timeout 600

# The runtime on aarch64: cross-built into build-arm64/ (Debian's cross compiler, an arm64 sysroot of
# Debian's packages) and tested under qemu-aarch64 on the models this build compiled (about 9 minutes;
# docs/arm64.md). ARM64_SUBSET=ci runs the subset .ci/run runs.
test-arm64: build
	@scripts/test-arm64.sh $(BUILD)

# Gigapixel images streamed through the CLI, a 4.4 GB BigTIFF output among them (about 4 minutes).
test-large: build
	@ninja -C $(BUILD) tessera_large_tests
	@$(BUILD)/tessera_large_tests

# The test suite under ASan + UBSan (build-asan/) and under TSan (build-tsan/: the tiled runner, the
# image pipeline and every multi-threaded test); what each leaves out and why: scripts/test-sanitizers.sh.
# ASAN_SUBSET=ci runs the subset .ci/run runs. Both build the Release build first: its tessera compiles
# the test models they load. docs/reliability.md.
test-asan: build
	@TEST_MODELS_CLI=$(abspath $(BUILD))/tessera scripts/test-sanitizers.sh asan

test-tsan: build
	@TEST_MODELS_CLI=$(abspath $(BUILD))/tessera scripts/test-sanitizers.sh tsan

# libFuzzer targets under ASan + UBSan (build-fuzz/, clang): each for its share of FUZZ_SECONDS (300);
# corpora and crashes in out/fuzz/; fails on any crash, leak or timeout. docs/reliability.md.
fuzz: deps
	@scripts/fuzz.sh

# `import tessera` for Debian's /usr/bin/python3: pip puts the package into /usr/local (root), reusing
# this build; nothing is fetched. Undo with /usr/bin/python3 -m pip uninstall --break-system-packages tessera.
install-python: build
	@TESSERA_CMAKE_BUILD_DIR=$(abspath $(BUILD)) /usr/bin/python3 -m pip install -q --root-user-action=ignore \
		--break-system-packages --no-build-isolation --no-index --no-deps .

# MODEL=esrgan-medium-x2 (build/tessera models list) and PHOTO=path change the demo's model and photograph.
demo: build
	@MODEL=$(MODEL) PHOTO=$(PHOTO) scripts/demo.sh $(BUILD)

bench: build
	@bench/tiled_vs_full.sh $(BUILD)
	@bench/image_sizes.sh $(BUILD)
	@bench/conv_layers.sh $(BUILD)
	@bench/thread_split.sh $(BUILD)
	@bench/peers/run.sh $(BUILD)

# The README's make test, make demo and make test-arm64 on a new minimal Debian 12 root (debootstrap + chroot, as root;
# several minutes): proves that the install steps miss nothing that this machine happens to have.
check-fresh:
	@scripts/check-fresh.sh

clean:
	rm -rf $(BUILD) build-arm64 build-arm64-sysroot build-asan build-tsan build-fuzz out
