#!/usr/bin/env bash
# make distro: the series built with Debian's own s390x kernel config, the
# one Debian 12 builds its s390x kernel with (package linux-config-6.1:s390x,
# config.s390x_none_s390x.xz), so that a distribution's full configuration
# of the series builds warning free, not only the workbench's small ones.
#
#   distro.sh [SRC [OBJ]]     default: the series tree and build/obj/distro-s390x
#   DISTRO=dirs distro.sh     the directories only, no vmlinux (make test)
#
# Prints results as scripts/results.sh describes: distro/config (Debian's
# config with the deviations below comes out of olddefconfig as asked),
# distro/vmlinux (compiles and links with no warning) and distro/dirs (every
# object under the directories in $dirs, modules included, compiles with no
# warning). Notes on stderr say which symbols came out other than in
# Debian's config, the symbols the series adds and their values, and how
# long each build took. The O= directory persists, so a second run is
# incremental. The modules are compiled, not linked into .ko files: modpost
# on them alone would lack the modules they use from elsewhere (ib_core for
# SMC, say), and all of Debian's 2100 modules take hours here.
#
# Deviations from Debian's config (the adjust list below, applied with the
# tree's scripts/config before olddefconfig):
#   - no debug info (DEBUG_INFO_NONE instead of DWARF_TOOLCHAIN_DEFAULT):
#     DWARF makes the build several times slower and larger and is no part
#     of what compiles;
#   - CONFIG_WERROR=y: a warning fails the object it is in, so the object is
#     built again by the next run and its warning cannot be hidden by an
#     incremental build.
# Not deviations, but worth knowing:
#   - Debian's packaged config leaves out the key paths its own build sets
#     (SYSTEM_TRUSTED_KEYS, MODULE_SIG_KEY); they get the tree's defaults:
#     no extra trusted keys, and a throwaway module signing key that the
#     build makes with openssl;
#   - the s390x config is Debian's last s390x build of bookworm (6.1.176;
#     bookworm's security updates no longer cover s390x), the base may be a
#     newer 6.1 (6.1.192): symbols the stable updates added get their
#     defaults, like the series' own;
#   - Debian does not enable VFIO or ISM on s390x, so drivers/vfio builds
#     nothing here and the ISM driver is not compiled (s390x-coverage does).
. "$(dirname "$0")/lib.sh"
. "$WB_TOP/scripts/results.sh"

src=${1:-$WB_SRC}
obj=${2:-$WB_OBJ/distro-s390x}
deb_config=/usr/src/linux-config-6.1/config.s390x_none_s390x.xz
# What scripts/config changes in Debian's config, as its arguments.
adjust=(-d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -d DEBUG_INFO_DWARF4
	-d DEBUG_INFO_DWARF5 -e DEBUG_INFO_NONE -e WERROR)
# Built besides vmlinux: the directories whose code uses the APIs the
# series changes, modules included.
dirs=(arch/s390/ drivers/iommu/ drivers/s390/ drivers/vfio/ net/smc/ kernel/dma/)
logs=$WB_BUILD/test
mkdir -p "$logs"

[ -f "$deb_config" ] || die "$deb_config not found: run 'make deps'"
[ -f "$src/Makefile" ] || die "no kernel tree at $src: run 'make tree' first"
command -v s390x-linux-gnu-gcc >/dev/null ||
	die "s390x-linux-gnu-gcc not found: run 'make deps' to install the cross compiler"
src=$(cd "$src" && pwd)
mkdir -p "$obj"
obj=$(cd "$obj" && pwd)
mk=(make -s -C "$src" O="$obj" ARCH=s390 CROSS_COMPILE=s390x-linux-gnu- -j"$WB_JOBS")

# The value of symbol $1 in config file $2: y, m, a string or number, or n.
value() {
	local v
	v=$(sed -n "s/^CONFIG_$1=//p" "$2")
	echo "${v:-n}"
}

# symbols FILE: "NAME<TAB>VALUE" for every symbol FILE sets, sorted.
symbols() {
	sed -n 's/^CONFIG_\([A-Za-z0-9_]*\)=\(.*\)$/\1\t\2/p; s/^# CONFIG_\([A-Za-z0-9_]*\) is not set$/\1\tn/p' "$1" |
		LC_ALL=C sort
}

# --- config -----------------------------------------------------------------
# Made again when Debian's config, the adjustments or any Kconfig file of the
# tree changed, as scripts/build.sh does for its configs.
stamp=$( (xzcat "$deb_config"; echo "${adjust[*]}"
	find "$src" -name 'Kconfig*' -not -path '*/.git/*' -print0 | sort -z | xargs -0 cat) |
	sha256sum | cut -d' ' -f1)
config_ok=1
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.wb-config" 2>/dev/null)" != "$stamp" ]; then
	note "configuring Debian's s390x config in $obj"
	rm -f "$obj/.wb-config"
	xzcat "$deb_config" >"$obj/debian.config"
	cp "$obj/debian.config" "$obj/.config"
	"$src/scripts/config" --file "$obj/.config" "${adjust[@]}"
	if ! "${mk[@]}" olddefconfig >"$logs/distro-config.log" 2>&1 </dev/null; then
		mapfile -t lines < <(tail -n 15 "$logs/distro-config.log")
		result FAIL distro/config "${lines[@]}"
		config_ok=0
	fi
	if [ $config_ok = 1 ]; then
		# Every adjustment must survive olddefconfig.
		bad=()
		set -- "${adjust[@]}"
		while [ $# -ge 2 ]; do
			want=y
			[ "$1" = -d ] && want=n
			have=$(value "$2" "$obj/.config")
			[ "$have" = "$want" ] || bad+=("CONFIG_$2: asked $want, got $have")
			shift 2
		done
		if [ ${#bad[@]} -gt 0 ]; then
			result FAIL distro/config "deviations from Debian's config that did not survive olddefconfig:" "${bad[@]}"
			config_ok=0
		else
			echo "$stamp" >"$obj/.wb-config"
		fi
	fi
fi
if [ $config_ok = 1 ]; then
	result PASS distro/config
	# What differs from Debian's config, for a person: the deviations above,
	# symbols the series (or a newer 6.1) added, those it removed or whose
	# value or default changed, and what the toolchain detects.
	# A symbol a config does not list (its dependencies unmet) counts as n.
	LC_ALL=C join -t "$(printf '\t')" -a1 -a2 -e '(unlisted)' -o 0,1.2,2.2 \
		<(symbols "$obj/debian.config") <(symbols "$obj/.config") |
		awk -F '\t' '{ a = $2 == "(unlisted)" ? "n" : $2; b = $3 == "(unlisted)" ? "n" : $3 }
			a != b { printf "  CONFIG_%s: Debian %s, here %s\n", $1, $2, $3 }' >"$obj/distro-config.diff"
	note "symbols that differ from Debian's config ($(wc -l <"$obj/distro-config.diff")):"
	cat "$obj/distro-config.diff" >&2
	# The symbols the series itself adds, and what they came out as.
	added=$(git -C "$src" diff base..HEAD -- '*Kconfig*' 2>/dev/null |
		sed -n 's/^+\(menu\)\{0,1\}config \([A-Za-z0-9_]*\)$/\2/p' | sort -u)
	if [ -n "$added" ]; then
		note "symbols the series adds (olddefconfig's defaults):"
		for s in $added; do
			echo "  CONFIG_$s=$(value "$s" "$obj/.config")" >&2
		done
	fi
fi

# --- build ------------------------------------------------------------------
# build NAME TARGET...: make TARGETs (-k: every object, even after one
# failed) and result NAME, failing on any warning. make -s prints nothing
# but diagnostics (and the signing key's generation), each listed.
build() {
	local name=$1 log=$logs/${1//\//-}.log start secs took rc=0
	shift
	start=$(date +%s)
	"${mk[@]}" -k "$@" >"$log" 2>&1 </dev/null || rc=1
	secs=$(($(date +%s) - start))
	took="$((secs / 60)) min $((secs % 60)) s"
	mapfile -t warns < <(grep -E '(^|[: ])([Ww]arning|WARNING|error|ERROR)(:| \[)' "$log" || true)
	if [ $rc = 0 ] && [ ${#warns[@]} -eq 0 ]; then
		result PASS "$name" "$*: 0 warnings, $took"
		note "$name: 0 warnings, $took"
		return
	fi
	# An object with a warning is not made (WERROR), so the next run tries
	# it again; a link with one would not be: make it again too.
	[ "$name" != distro/vmlinux ] || rm -f "$obj/vmlinux" "$obj/vmlinux.o"
	[ ${#warns[@]} -gt 0 ] || mapfile -t warns < <(grep -v '^\s*$' "$log" | tail -n 15)
	result FAIL "$name" "$*: warnings or errors: ${#warns[@]}, $took" \
		"${warns[@]:0:40}" "full log: $log"
	note "$name: warnings or errors: ${#warns[@]}, $took"
}

if [ $config_ok = 0 ]; then
	result FAIL distro/dirs "not built: distro/config failed"
	exit 0
fi
if [ "${DISTRO:-full}" != dirs ]; then
	note "building vmlinux with Debian's s390x config in $obj"
	build distro/vmlinux vmlinux
fi
note "building ${dirs[*]} with Debian's s390x config in $obj"
build distro/dirs "${dirs[@]}"
