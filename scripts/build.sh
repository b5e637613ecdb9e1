#!/usr/bin/env bash
# Build one kernel config out of tree: build.sh CONFIG [SRC [OBJ]] [-- TARGETS]
# Without TARGETS, the config's "# targets:" line, or the default (vmlinux
# and modules). The .config is tinyconfig plus the fragments configs/CONFIG.config
# names ("# include: other.config" lines pull in other fragments first). It is
# only regenerated when a fragment or the tree's Kconfig changed, so rebuilds
# stay incremental. Every
# option a fragment asks for must survive olddefconfig, or the build fails.
. "$(dirname "$0")/lib.sh"

cfg=${1:?usage: build.sh CONFIG [SRC [OBJ]] [-- TARGETS]}
shift
src=$WB_SRC
obj=
if [ $# -gt 0 ] && [ "$1" != -- ]; then src=$1; shift; fi
if [ $# -gt 0 ] && [ "$1" != -- ]; then obj=$1; shift; fi
[ "${1:-}" = -- ] && shift
targets=("$@")
wb_check_config "$cfg"
# A config may name what it builds ("# targets: drivers/iommu/"), e.g. a
# compile check that needs no vmlinux; targets on the command line win.
if [ ${#targets[@]} -eq 0 ]; then
	read -r -a targets < <(sed -n 's/^# targets: *//p' "$WB_TOP/configs/$cfg.config" | tr '\n' ' '; echo)
fi
[ -n "$obj" ] || obj=$WB_OBJ/$cfg
[ -f "$src/Makefile" ] || die "no kernel tree at $src: run 'make tree' first"
src=$(cd "$src" && pwd)
mkdir -p "$obj"
obj=$(cd "$obj" && pwd)
read -r karch cross < <(wb_arch_of "$cfg")
if [ -n "$cross" ] && ! command -v "${cross}gcc" >/dev/null; then
	die "${cross}gcc not found: run 'make deps' to install the cross compiler"
fi

# Fragments in order, includes first (a missing one ends the build here).
fraglist=$(wb_fragments "$cfg")
mapfile -t frags <<<"$fraglist"

mk=(make -s -C "$src" O="$obj" ARCH="$karch" CROSS_COMPILE="$cross" -j"$WB_JOBS")
mkdir -p "$obj"
# The .config is made again when a fragment or any Kconfig file of the tree
# changed: a patch that changes a default (a choice, say) must get the same
# .config as a fresh build, which olddefconfig alone would not give it.
stamp=$( (cat "${frags[@]}"; echo "$karch $cross"
	find "$src" -name 'Kconfig*' -not -path '*/.git/*' -print0 | sort -z | xargs -0 cat) |
	sha256sum | cut -d' ' -f1)
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.wb-config" 2>/dev/null)" != "$stamp" ]; then
	note "configuring $cfg in $obj"
	"${mk[@]}" tinyconfig >/dev/null
	(cd "$obj" && ARCH=$karch CROSS_COMPILE=$cross \
		"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${frags[@]}" >/dev/null)
	"${mk[@]}" olddefconfig >/dev/null
	# An option the tree does not define at all (one the series adds, when
	# building the base) is left out; any other must come out as asked.
	# A later fragment may set again what an earlier one set (a config
	# that includes another leaving some of it out): the last value counts,
	# as it does for merge_config.sh.
	bad=$(cat "${frags[@]}" | sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)$/\1 \2/p;s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1 n/p' |
		awk '{ if (!($1 in v)) order[n++] = $1; v[$1] = $2 } END { for (i = 0; i < n; i++) print order[i], v[order[i]] }' |
		while read -r sym val; do
			have=$(sed -n "s/^$sym=//p" "$obj/.config")
			[ -n "$have" ] || have=n
			[ "$have" = "$val" ] && continue
			grep -rqsE --include='Kconfig*' "^(menu)?config ${sym#CONFIG_}\$" "$src" ||
				continue
			echo "  $sym: asked $val, got $have"
		done)
	[ -z "$bad" ] || die "config $cfg: options the fragments ask for did not survive olddefconfig:
$bad"
	echo "$stamp" >"$obj/.wb-config"
fi

# Symbols a patch adds get their defaults, never a question on stdin. A
# change to a Kconfig file or a fragment made the .config again above, so
# this is only for a .config changed since (by hand, say); skipping it saves
# about 2 s on each of bisect.sh's hundred or so builds.
if [ "$obj/.config" -nt "$obj/.wb-config" ]; then
	"${mk[@]}" olddefconfig >/dev/null </dev/null
	touch "$obj/.wb-config"
fi
note "building $cfg ($karch) in $obj${targets:+: ${targets[*]}}"
rm -f "$obj/.wb-built-tree"
"${mk[@]}" "${targets[@]}" </dev/null
# What the objects were built from, for bisect.sh: the commit's tree, when
# the source is a git tree without uncommitted changes.
if [ -z "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null || echo dirty)" ]; then
	git -C "$src" rev-parse "HEAD^{tree}" >"$obj/.wb-built-tree"
fi
