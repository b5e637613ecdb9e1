#!/usr/bin/env bash
# make guest: build the guest's init, the dma_map_benchmark client of the
# kernel tree, and the initramfs that holds them.
. "$(dirname "$0")/lib.sh"
[ -f "$WB_SRC/Makefile" ] || die "no kernel tree at $WB_SRC: run 'make tree' first"
command -v s390x-linux-gnu-gcc >/dev/null ||
	die "s390x-linux-gnu-gcc not found: run 'make deps'"
make -s -C "$WB_TOP/guest" OUT="$WB_BUILD/guest" SRC="$WB_SRC"
echo "guest: $WB_BUILD/guest/initramfs.cpio"
