# The two commands of the README, and a few more. Everything goes through CMake presets.
.PHONY: run test deps build release asan tsan bench format clean

JOBS ?= $(shell nproc)

deps:
	@bash tools/install-deps.sh

build: deps
	cmake --preset default
	cmake --build --preset default -j $(JOBS)

release: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

# Install what is missing, build the server (only it) as a release, serve the demo config on
# 127.0.0.1:8080.
run: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS) --target eventfeed
	./build/release/src/eventfeed serve --config examples/demo.toml

# Install what is missing, build, run every test tier that needs no browser nor outside service.
test: build
	ctest --preset default -LE bench

asan: deps
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -LE bench

tsan: deps
	cmake --preset tsan
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan -LE bench

# The full side-by-side comparison with Nchan and Pushpin (docs/benchmarks.md "Side by side").
bench: release
	SKIP_BUILD=1 bash bench/compare

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build
