# tessera: the two commands a new machine needs are `make demo` and `make test`.
BUILD ?= build

.PHONY: all deps build test demo bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
	@ninja -C $(BUILD)

test: build
	@ninja -C $(BUILD) tessera_tests
	@cd $(BUILD) && ctest --output-on-failure -j2 --timeout 600

demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	@bench/tiled_vs_full.sh $(BUILD)
	@bench/peers/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) out
