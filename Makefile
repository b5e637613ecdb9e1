# s390 PCI DMA through dma-iommu: the series in patches/ and its workbench.
# Every target installs or builds what it needs first.
#
#   make run      build and boot the patched kernel, run the DMA workload and
#                 say what the IOMMU did
#   make test     every check: static, builds, boot tests, benchmark CSV
#   make bisect   every patch of the series builds in every config
#   make bench    the series against the unpatched base, side by side
#   make tree     the Debian base as a git tree (build/src/linux) + patches/
#   make export   write the tree's commits since 'base' back to patches/
#   make build    build CONFIG (default s390x-qemu; configs/*.config)
#   make distro   build the series with Debian's own s390x kernel config
#   make boot     boot TEST (tests/boot/*.test) on the built kernel
#   make deps     install the Debian packages the workbench uses
#   make clean    remove build/

CONFIG ?= s390x-qemu
TEST ?= workload
S := scripts
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: all run test bisect bench tree export build distro guest boot deps clean

all: run

deps:
	@$(S)/deps.sh

tree: deps
	@$(S)/tree.sh

export:
	@$(S)/export.sh

build: tree
	@$(S)/build.sh $(CONFIG)

distro: tree
	@$(S)/distro.sh | $(S)/show.sh

guest: tree
	@$(S)/guest.sh

boot: build guest
	@$(S)/boot.sh $(TEST) | $(S)/show.sh

run: deps
	@$(S)/run.sh

test: deps
	@$(S)/test.sh

bisect: deps
	@$(S)/test.sh bisect

clean:
	rm -rf build

bench: deps
	@$(S)/bench.sh
