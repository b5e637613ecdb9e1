# shellcheck shell=bash
# Common settings and helpers for the workbench scripts. Sourced, not run.

set -euo pipefail

WB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WB_BUILD=${WB_BUILD:-$WB_TOP/build}
WB_SRC=$WB_BUILD/src/linux          # the kernel git tree (base + patches/)
WB_BASE_SRC=$WB_BUILD/src/base      # git worktree of the tag 'base'
WB_OBJ=$WB_BUILD/obj                # O= directories, one per tree and config
WB_JOBS=${WB_JOBS:-$(nproc)}
WB_DEB_PKG=linux-source-6.1
# The version of the series that patches/ holds ([PATCH v2 NN/MM] when above 1);
# the cover letter's changelog says what changed from the one before.
WB_SERIES_VERSION=2

die() {
	echo "error: $*" >&2
	exit 1
}

note() {
	echo ">>> $*" >&2
}

# Kernel ARCH and CROSS_COMPILE for a config name "<arch>-<purpose>".
wb_arch_of() {
	case "${1%%-*}" in
	s390x) echo "s390 s390x-linux-gnu-" ;;
	x86_64) echo "x86_64 " ;;
	arm64) echo "arm64 aarch64-linux-gnu-" ;;
	arm) echo "arm arm-linux-gnueabihf-" ;;
	*) return 1 ;;
	esac
}

wb_configs() {
	local f
	for f in "$WB_TOP"/configs/*.config; do
		basename "$f" .config
	done
}

# A config's fragment files, those it includes ("# include:") first.
wb_fragments() {
	local f=$WB_TOP/configs/$1.config inc
	[ -f "$f" ] || die "configs/$1.config not found"
	for inc in $(sed -n 's/^# include: *//p' "$f"); do
		wb_fragments "${inc%.config}"
	done
	echo "$f"
}

wb_check_config() {
	[ -f "$WB_TOP/configs/$1.config" ] ||
		die "unknown config '$1' (known: $(wb_configs | tr '\n' ' '))"
	wb_arch_of "$1" >/dev/null ||
		die "config '$1': no architecture for prefix '${1%%-*}'"
}

# The patch files of the series, in order, from patches/series.
wb_series() {
	local s=$WB_TOP/patches/series line
	[ -f "$s" ] || return 0
	while IFS= read -r line; do
		line=${line%%#*}
		line=${line//[[:space:]]/}
		[ -n "$line" ] || continue
		[ -f "$WB_TOP/patches/$line" ] ||
			die "patches/series names $line, which does not exist"
		echo "$WB_TOP/patches/$line"
	done <"$s"
}

# A hash of what patches/ holds: the series file and every patch file.
wb_patches_hash() {
	(cd "$WB_TOP/patches" 2>/dev/null &&
		cat series $(ls -1 | grep -E '^[0-9]{4}-.*\.patch$' | grep -v '^0000-cover-letter') 2>/dev/null) |
		sha256sum | cut -c1-32
}

wb_identity() {
	# shellcheck source=../identity.conf
	. "$WB_TOP/identity.conf"
	[ -n "${SERIES_AUTHOR_NAME:-}" ] && [ -n "${SERIES_AUTHOR_EMAIL:-}" ] ||
		die "identity.conf must set SERIES_AUTHOR_NAME and SERIES_AUTHOR_EMAIL"
}

# Read a boot test's .test file into the variables boot.sh and judge.sh use,
# the defaults first (a file sets only what its test needs).
wb_load_test() {
	# shellcheck disable=SC2034
	{
		CONFIG=s390x-qemu DEVICES='' APPEND='' TIMEOUT=600 DISK_MIB=256 EXPECT=pass DESC='' MIN_RESULTS=0
		# Modules of the kernel under test (paths in OBJ) the guest finds in /lib/modules/.
		MODULES=''
		# Extended regexes the kernel log must match, one line each (a test
		# sets it). A line that matches one is what the test provokes, and
		# tests/log-patterns does not fail the boot for it.
		LOG_EXPECT=()
		# The results that may be SKIP, by name as the guest or the kernel
		# reports them (without the run's name: "stats.0001:00:00.0-rpcit-kinds",
		# "kunit.s390-iommu.s390_iommu_test_default_domain"), separated by
		# spaces. Any other SKIP fails (scripts/judge.sh): a skip is where a
		# broken series lands, so a test allows only what a correct one may give.
		ALLOW_SKIP=''
		# Results that must be there and PASS, by name as in ALLOW_SKIP,
		# separated by spaces: one missing fails the test under its name.
		REQUIRE=''
	}
	# shellcheck disable=SC1090
	. "$1"
}

# The .test file of a test: a plain name is a boot test in tests/boot/,
# DIR/NAME is tests/DIR/NAME.test.
wb_test_file() {
	local f
	case "$1" in
	*/*) f=$WB_TOP/tests/$1.test ;;
	*) f=$WB_TOP/tests/boot/$1.test ;;
	esac
	[ -f "$f" ] || die "unknown test '$1' (known: $(cd "$WB_TOP/tests/boot" && ls -1 | sed -n 's/\.test$//p' | tr '\n' ' '))"
	echo "$f"
}
