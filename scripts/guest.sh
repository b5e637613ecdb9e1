#!/usr/bin/env bash
# make guest: build the guest's init, the dma_map_benchmark client of the
# kernel tree, and the initramfs that holds them.
. "$(dirname "$0")/lib.sh"
[ -f "$WB_SRC/Makefile" ] || die "no kernel tree at $WB_SRC: run 'make tree' first"
# One initramfs per architecture the boot tests use: build/guest/<arch>/.
for arch in s390x x86_64; do
	cross=
	[ "$arch" = s390x ] && cross=s390x-linux-gnu-
	command -v "${cross}gcc" >/dev/null ||
		die "${cross}gcc not found: run 'make deps'"
	make -s -C "$WB_TOP/guest" OUT="$WB_BUILD/guest/$arch" SRC="$WB_SRC" \
		CROSS_COMPILE="$cross"
	echo "guest: $WB_BUILD/guest/$arch/initramfs.cpio"
done
