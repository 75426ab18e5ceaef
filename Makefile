# pcisnap: the README's two commands, `make run` and `make test`, wrapping CMake.
# SPDX-License-Identifier: GPL-2.0-or-later

# What `make run` installs: the build dependencies only. It may run on a production hypervisor,
# so it never installs a kernel, a daemon or a test tool there; with all of these present it never
# calls apt at all (an apt lock held by unattended-upgrades does not stop it).
BUILD_PACKAGES := build-essential cmake pkg-config libpci-dev libjansson-dev libarchive-dev \
	libgit2-dev nettle-dev libxml2-dev libkmod-dev libsystemd-dev libzstd-dev pci.ids
# What `make test` (and `make deps-test`) adds, each for a reason:
#   libcriterion-dev                    the unit tests
#   python3 python3-jsonschema          fixture generators; every document checked against schema/
#   pciutils git                        lspci -F on pciutils' dumps; the store checked with git itself
#   lighttpd openssh-server             an HTTP(S) and an SSH remote for the push/pull tests
#     openssh-client                    (daemons: test machines only, started by the tests on loopback)
#   libacl1-dev libzstd-dev liblz4-dev  linking against libsnap.a with pkg-config --static
#   initramfs-tools cpio linux-image-amd64
#                                       preflight against images Debian's mkinitramfs builds
#                                       (a kernel: test machines only, never by `make run`)
#   bzip2 xz-utils zstd lz4             compressed bundles and initramfs images
#   strace                              system calls per device (tests/scripts/collect_walk.sh)
#   clang-format                        the formatting check
#   locales man-db                      output under other locales; the man pages render
#   systemd systemd-journal-remote      systemd-analyze verify; a journal for sd-journal to read
#   prometheus                          promtool check metrics (a daemon: test machines only)
#   debhelper dpkg-dev lintian          the package builds and passes lintian
TEST_PACKAGES := $(BUILD_PACKAGES) libcriterion-dev python3 python3-jsonschema \
	pciutils git lighttpd openssh-server openssh-client \
	libacl1-dev libzstd-dev liblz4-dev initramfs-tools linux-image-amd64 cpio \
	bzip2 xz-utils zstd lz4 strace clang-format locales man-db systemd systemd-journal-remote prometheus \
	debhelper dpkg-dev lintian
# The real-kernel lab (tests/vm): Debian's kernel booted under QEMU; the systemd lab boots the
# machine's own root with systemd as PID 1 (systemd for journalctl on the host too).
VM_PACKAGES := qemu-system-x86 linux-image-amd64 busybox-static kmod cpio pciutils python3 systemd
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_FLAGS ?= --output-on-failure -j $(JOBS)

.PHONY: bench fuzz mutate all deps deps-test deps-vm install-packages build-tool build build-asan test test-release test-asan test-vm test-vm-ci run \
	format format-check clean

all: build

# Install only what is missing; apt-get needs root (or sudo).
deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(BUILD_PACKAGES)"

deps-test:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(TEST_PACKAGES)"

deps-vm:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(VM_PACKAGES)"

install-packages:
	@missing=$$(for p in $(PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# The tool alone (make run): build dependencies only, no test suite.
build-tool: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSNAP_WERROR=ON -DSNAP_BUILD_TESTS=OFF >/dev/null
	cmake --build build -j $(JOBS)

build: deps-test
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSNAP_WERROR=ON -DSNAP_BUILD_TESTS=ON >/dev/null
	cmake --build build -j $(JOBS)

build-asan: deps-test
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSNAP_SANITIZE=ON -DSNAP_WERROR=ON >/dev/null
	cmake --build build-asan -j $(JOBS)

test-release: build
	cd build && ctest $(CTEST_FLAGS)

test-asan: build-asan
	cd build-asan && ctest $(CTEST_FLAGS)

# Every test, then the whole suite again under ASan+UBSan.
test: test-release test-asan

# A libFuzzer campaign (clang, ASan+UBSan) of FUZZ_SECONDS per target, from the corpus in
# tests/fuzz/corpus/; what it finds goes to tests/fuzz/crashes/ (add it to the corpus once fixed:
# the corpus is replayed by every make test). Not part of CI.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := snapshot_load diff bundle parsers initramfs bootcmd config
fuzz: deps-test
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSNAP_SANITIZE=ON -DSNAP_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS)
	@mkdir -p tests/fuzz/crashes
	@for t in $(FUZZ_TARGETS); do \
		c=$${t%_load}; mkdir -p build-fuzz/corpus-$$t; \
		cp -n tests/fuzz/corpus/$$c/* build-fuzz/corpus-$$t/; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
		build-fuzz/tests/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=2048 \
			-artifact_prefix=tests/fuzz/crashes/$$t- -print_final_stats=1 \
			build-fuzz/corpus-$$t 2>build-fuzz/fuzz-$$t.log || { tail -40 build-fuzz/fuzz-$$t.log; exit 1; }; \
		grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#.*DONE' build-fuzz/fuzz-$$t.log | tail -3; \
	done

# The benchmarks of docs/PERFORMANCE.md, regenerated from a run (slow: about 15 minutes; by hand,
# never in CI). Each prints its table; docs/PERFORMANCE.md says which command made which table.
bench: build
	@echo "== collect, diff, check against lspci (bench/bench.py)"
	python3 bench/bench.py build/pcisnap --runs 11 --loop-runs 1
	@echo "== system calls per device (bench/syscalls.sh)"
	bash bench/syscalls.sh build/pcisnap 1000
	@echo "== the store (bench/store.py)"
	python3 bench/store.py build/pcisnap --count 10000 2>/dev/null
	@echo "== fleet (bench/fleet.sh)"
	bash bench/fleet.sh build/pcisnap 1000

# Each rule's deliberate bug (tests/mutate/mutations.txt) against the whole suite; slow, not CI.
mutate: deps-test
	python3 tests/mutate/run.py

# Boot every lab topology (tests/vm/lab.py); the guests' raw files stay in build/vm/<boot>/.
test-vm: build deps-vm
	python3 tests/vm/lab.py --pcisnap build/pcisnap --out build/vm --subset all
	python3 tests/vm/systemd_lab.py --pcisnap build/pcisnap --out build/vm/systemd

# The subset CI runs: every boot but the slow AMD vIOMMU one (TCG on 2 cores: ~4 minutes).
test-vm-ci: build deps-vm
	python3 tests/vm/lab.py --pcisnap build/pcisnap --out build/vm --subset ci
	python3 tests/vm/systemd_lab.py --pcisnap build/pcisnap --out build/vm/systemd

# Collect this machine into the default store (or STORE=DIR) and print the on-call report. Never
# needs root; as a user some facts are unknown and the store is ~/.local/state/pcisnap.
# (--store "" names the default store.)
STORE ?=
run: build-tool
	./build/pcisnap collect --store "$(STORE)"
	./build/pcisnap show --store "$(STORE)" "$$(cat /proc/sys/kernel/hostname)"
	@echo
	./build/pcisnap check --store "$(STORE)" "$$(cat /proc/sys/kernel/hostname)" || true
	@echo
	./build/pcisnap log --store "$(STORE)" "$$(cat /proc/sys/kernel/hostname)"

format:
	clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
