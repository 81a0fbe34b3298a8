# snp and buslock cgroup controllers: build, boot and test.
#
#   make demo      boot the patched kernel and show the controllers at work
#   make check     every test; ends with "N passed, N failed"
#   make series    the git-am-able patch series, checked
#
# BASE=7.3 (mainline, the default) or BASE=6.12 (the backport) picks the
# kernel for every target but check, which runs both.
#   make vm-run CMD='...'   run a command in the booted test kernel
#   make bench     ns and instructions per charge (userspace model)
#   make fuzz      a long libFuzzer run of the model
#   make sim       the seed experiment, simulated with the real core
#   make systemd-upstream   trixie's systemd with userspace/systemd-upstream,
#                  built, and its own unit tests run
#
# Everything built (trees, objects, logs, the series) goes to
# $(HOME)/.cache/snp-cgroup-build, outside the checkout, so that a fresh
# clone rebuilds only what changed; ccache keeps its cache in
# $(HOME)/.cache/snp-cgroup-ccache. BUILD=DIR puts the first elsewhere.

SHELL := /bin/bash
BUILD ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/snp-cgroup-build
export BUILD
# BASE=7.3 (mainline) or BASE=6.12 (the backport series)
BASE ?= 7.3
export BASE
BDIR := $(BUILD)/$(BASE)
TREE := $(BDIR)/linux
OBJ := $(BDIR)/obj-test
BASE_TREE := $(BDIR)/base-tree
BASE_OBJ := $(BDIR)/obj-base
KERNEL := $(OBJ)/arch/x86/boot/bzImage
BASE_KERNEL := $(BASE_OBJ)/arch/x86/boot/bzImage
TEST_CONFIGS := configs/base.config configs/base-$(BASE).config configs/debug.config configs/rate.config
BASE_CONFIGS := configs/base.config configs/base-$(BASE).config configs/debug.config
CMD ?= true

.PHONY: all deps tree kernel base-kernel selftests vm-run vm-run-base demo \
	check series bench fuzz sim systemd-upstream clean

all: kernel

deps:
	@scripts/install-deps.sh

tree: deps
	@scripts/prepare-tree.sh tree $(TREE)

kernel: tree
	@scripts/build-kernel.sh $(TREE) $(OBJ) $(TEST_CONFIGS) -- bzImage

base-kernel: deps
	@scripts/prepare-tree.sh tree $(BASE_TREE) 0
	@scripts/build-kernel.sh $(BASE_TREE) $(BASE_OBJ) $(BASE_CONFIGS) -- bzImage

selftests: tree
	@scripts/build-selftests.sh $(TREE)

vm-run: kernel
	@scripts/vm-run.sh $(KERNEL) '$(CMD)'

vm-run-base: base-kernel
	@scripts/vm-run.sh $(BASE_KERNEL) '$(CMD)'

demo: kernel selftests
	@rm -f $(BUILD)/logs/demo-rate-top.*
	@VM_OUT=$(BUILD)/logs scripts/vm-run.sh $(KERNEL) "BASE=$(BASE) BUILD=$(BUILD) DEMO_LIVE=$$([ -t 1 ] && echo 1 || echo 0) bash $(CURDIR)/tools/demo.sh"
	@tools/rate-top --plot $(BUILD)/logs/demo-rate-top.png $(BUILD)/logs/demo-rate-top.csv
	@echo "demo: the run, recorded: $(BUILD)/logs/demo-rate-top.csv, plotted: $(BUILD)/logs/demo-rate-top.png"

check:
	@scripts/check.sh

bench: deps
	@scripts/prepare-tree.sh base
	@$(MAKE) -s -C tools/rate-model bench

fuzz: deps
	@$(MAKE) -s -C tools/rate-model fuzz

sim: deps
	@$(MAKE) -s -C tools/rate-model sim

systemd-upstream: deps
	@scripts/build-systemd-upstream.sh > /dev/null

series: deps
	@scripts/make-series.sh $(BDIR)/series

clean:
	rm -rf $(BUILD)
