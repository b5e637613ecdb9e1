#!/usr/bin/env bash
# Static checks of the series (results as scripts/results.sh describes):
#   static.sh checkpatch          checkpatch --strict on every patch
#   static.sh submission          the cover letter is current and complete;
#                                 get_maintainer.pl names a maintainer and a
#                                 MAINTAINERS section other than THE REST
#                                 for every patch, and MAINTAINERS
#                                 covers every file the series adds and
#                                 names none it deletes; kernel-doc adds
#                                 no warning to a file the series touches;
#                                 tests/boot/kunit.test requires every KUnit
#                                 case the series adds
#   static.sh sparse CONFIG...    sparse (C=2) and W=1 on every C file the
#                                 series touches, in each config that builds
#                                 it; fails on warnings the base lacks
. "$(dirname "$0")/lib.sh"
. "$WB_TOP/scripts/results.sh"

what=${1:?usage: static.sh checkpatch | submission | sparse CONFIG...}
shift
logs=$WB_BUILD/test/static
mkdir -p "$logs"

checkpatch() {
	local p name dict dir
	dict=$(dpkg -L codespell 2>/dev/null | grep -m1 '/dictionary\.txt$' || true)
	[ -n "$dict" ] || die "codespell's dictionary not found: run 'make deps'"
	local series
	series=$(wb_series)
	# One checkpatch per core (each is one process); results in order.
	# The tree is a release tarball with no history before the base, so
	# checkpatch cannot look up an upstream commit a message cites
	# (UNKNOWN_COMMIT_ID); the form of the reference it still checks
	# (GIT_COMMIT_ID).
	dir=$logs/checkpatch
	rm -rf "$dir"
	mkdir -p "$dir"
	# checkpatch runs scripts/spdxcheck.py with "env python3": the
	# system's python3, which has python3-ply (make deps), must come
	# before any other in PATH (a pyenv shim, say), or the SPDX check of
	# new files fails to start and passes unseen.
	for p in $series; do echo "$p"; done |
		PATH=/usr/bin:$PATH xargs -r -P "$WB_JOBS" -I{} sh -c \
			'"$1" --strict --root "$2" --quiet --show-types --codespell \
				--ignore UNKNOWN_COMMIT_ID --codespellfile "$3" "$4" >"$5/$(basename "$4").out" 2>&1
			echo $? >"$5/$(basename "$4").rc"' \
			sh "$WB_SRC/scripts/checkpatch.pl" "$WB_SRC" "$dict" {} "$dir"
	for p in $series; do
		name=checkpatch/$(basename "$p" .patch)
		if [ "$(cat "$dir/$(basename "$p").rc" 2>/dev/null)" = 0 ]; then
			result PASS "$name"
		else
			mapfile -t lines < <(cat "$dir/$(basename "$p").out" 2>/dev/null ||
				echo "checkpatch did not run")
			result FAIL "$name" "${lines[@]}"
		fi
	done
}

submission() {
	local p out name f bad
	if ! "$WB_TOP/scripts/export.sh" --check-cover; then
		result FAIL cover-letter/current "patches/0000-cover-letter.patch is not what cover-letter.txt and the tree give: run 'make export'"
	elif bad=$(grep -nE '\*\*\*|SUBJECT HERE|BLURB|TODO|FIXME|XXX' "$WB_TOP/patches/0000-cover-letter.patch"); then
		mapfile -t lines <<<"$bad"
		result FAIL cover-letter/current "placeholder text:" "${lines[@]}"
	else
		result PASS cover-letter/current
	fi
	for p in $(wb_series); do
		name=maintainers/$(basename "$p" .patch)
		out=$(cd "$WB_SRC" && ./scripts/get_maintainer.pl --no-git --no-git-fallback \
			--no-rolestats "$p" 2>&1) || true
		echo "$out" >"$logs/recipients-$(basename "$p" .patch).txt"
		if ! grep -q '^[^@]* <[^>]*@[^>]*>$' <<<"$out"; then
			mapfile -t lines <<<"$out"
			result FAIL "$name" "no maintainer:" "${lines[@]}"
		elif ! (cd "$WB_SRC" && ./scripts/get_maintainer.pl --no-git --no-git-fallback \
				--sections "$p" 2>/dev/null) |
			awk 'BEGIN { RS = "" } { split($0, l, "\n"); if (l[1] != "THE REST") found = 1 }
			     END { exit !found }'; then
			# get_maintainer names the lists of the sections that match;
			# one without a list of its own (GenWQE) leaves LKML, which is
			# right. Only THE REST means nobody looks after the files.
			mapfile -t lines <<<"$out"
			result FAIL "$name" "no MAINTAINERS section but THE REST:" "${lines[@]}"
		else
			result PASS "$name"
		fi
	done
	while IFS=$'\t' read -r st f; do
		name=maintainers/file/$f
		if [ "$st" = D ]; then
			if grep -qxF "F:	$f" "$WB_SRC/MAINTAINERS"; then
				result FAIL "$name" "deleted, but MAINTAINERS still names it"
			else
				result PASS "$name"
			fi
			continue
		fi
		out=$(cd "$WB_SRC" && ./scripts/get_maintainer.pl --no-git --no-git-fallback -f "$f" 2>&1) || true
		if grep -E '\((maintainer|supporter|reviewer):' <<<"$out" | grep -qv 'THE REST'; then
			result PASS "$name"
		else
			mapfile -t lines <<<"$out"
			result FAIL "$name" "no MAINTAINERS entry covers it:" "${lines[@]}"
		fi
	done < <(git -C "$WB_SRC" diff --no-renames --name-status --diff-filter=AD base..HEAD)
}

# tests/boot/kunit.test requires every KUnit case of the suites the series
# adds (one suite per file), by name: a new case cannot be left out.
kunitcases() {
	local f want have missing extra
	want=$(for f in $(git -C "$WB_SRC" diff --no-renames --name-only --diff-filter=A base..HEAD -- '*.c'); do
		grep -q 'KUNIT_CASE(' "$WB_SRC/$f" || continue
		awk -v f="$f" '
			/struct kunit_suite/ { insuite = 1 }
			insuite && /\.name *= *"/ { match($0, /"[^"]*"/); suite[++ns] = substr($0, RSTART + 1, RLENGTH - 2) }
			/KUNIT_CASE\(/ { match($0, /KUNIT_CASE\([A-Za-z0-9_]+/); c[++nc] = substr($0, RSTART + 11, RLENGTH - 11) }
			END {
				if (ns != 1) { print "?" f ": " ns " suites"; exit }
				for (i = 1; i <= nc; i++) print "kunit." suite[1] "." c[i]
			}' "$WB_SRC/$f"
	done | sort)
	have=$(wb_load_test "$WB_TOP/tests/boot/kunit.test" && tr -s ' \n' '\n\n' <<<"$REQUIRE" | grep . | sort)
	missing=$(comm -23 <(echo "$want") <(echo "$have"))
	extra=$(comm -13 <(echo "$want") <(echo "$have"))
	if [ -z "$want" ]; then
		result FAIL kunit/required-cases "the series adds no KUnit case: the check has nothing to compare"
	elif [ -n "$missing$extra" ]; then
		mapfile -t lines < <(sed 's/^/not required: /' <<<"$missing" | grep -v '^not required: $'
			sed 's/^/required, not in the tree: /' <<<"$extra" | grep -v ': $')
		result FAIL kunit/required-cases "tests/boot/kunit.test's REQUIRE and the series' KUNIT_CASE()s differ:" "${lines[@]}"
	else
		result PASS kunit/required-cases
	fi
}

# kernel-doc on every C file and header the series adds or changes: no
# warning the base's version of the file does not have.
kerneldoc() {
	local f new base
	while IFS= read -r f; do
		new=$(cd "$WB_SRC" && ./scripts/kernel-doc -none "$f" 2>&1 |
			sed -E 's/:[0-9]+:/:/' | sort -u)
		# A file the base lacks has no base warnings.
		base=
		if git -C "$WB_SRC" cat-file -e "base:$f" 2>/dev/null; then
			git -C "$WB_SRC" show "base:$f" >"$logs/kdoc.base"
			base=$( (cd "$WB_SRC" && ./scripts/kernel-doc -none "$logs/kdoc.base" 2>&1) |
				sed -E "s|$logs/kdoc.base|$f|; s/:[0-9]+:/:/" | sort -u)
		fi
		new=$(comm -23 <(echo "$new") <(echo "$base") | grep -v '^$' || true)
		if [ -z "$new" ]; then
			result PASS "kernel-doc/$f"
		else
			mapfile -t lines <<<"$new"
			result FAIL "kernel-doc/$f" "new kernel-doc warnings:" "${lines[@]}"
		fi
	done < <(git -C "$WB_SRC" diff --no-renames --name-only --diff-filter=AM base..HEAD -- '*.c' '*.h')
	rm -f "$logs/kdoc.base"
}

# warnings SRC OBJ CONFIG SUFFIX FILE...: the warnings of each FILE's object,
# built with C=2 W=1, in build/test/static/CONFIG-FILE.SUFFIX (FILE with
# _ for /), without line numbers or the tree's path, so that base and series
# compare; FILE.SUFFIX.failed marks one that does not compile, its file then
# holds the errors. One make builds them all: -k, so that a failure stops
# no other, and -Otarget, so that each object's output comes in one piece
# after the "CC" line that names it (a header's warnings count for the
# object that includes it).
warnings() {
	local src=$1 obj=$2 cfg=$3 sfx=$4 karch cross f m
	shift 4
	read -r karch cross < <(wb_arch_of "$cfg")
	for f in "$@"; do
		m=$logs/$cfg-${f//\//_}.$sfx
		rm -f "$obj/${f%.c}.o" "$m.failed"
		: >"$m"
	done
	# A single-target goal is descended into once for every directory of
	# the top Kbuild that contains it. s390's Makefile adds drivers/s390/
	# (drivers-y) beside drivers/, so an object under it is built by two
	# makes, once without [M]: in parallel they race on its .o.d ("fixdep:
	# error opening file"). Those goals get a make of their own, serial;
	# the module build comes last and is the object kept.
	local par=() ser=()
	for f in "$@"; do
		case $f in
		drivers/"$karch"/*) ser+=("${f%.c}.o") ;;
		*) par+=("${f%.c}.o") ;;
		esac
	done
	: >"$logs/$cfg-make.$sfx.log"
	[ ${#par[@]} -eq 0 ] ||
		make -k -Otarget -C "$src" O="$obj" ARCH="$karch" CROSS_COMPILE="$cross" \
			-j"$WB_JOBS" C=2 W=1 "${par[@]}" >>"$logs/$cfg-make.$sfx.log" 2>&1 || true
	[ ${#ser[@]} -eq 0 ] ||
		make -k -Otarget -C "$src" O="$obj" ARCH="$karch" CROSS_COMPILE="$cross" \
			-j1 C=2 W=1 "${ser[@]}" >>"$logs/$cfg-make.$sfx.log" 2>&1 || true
	awk -v src="$src/" -v pre="$logs/$cfg-" -v sfx=".$sfx" '
	/^  CC( \[M\])? +[^ ]+\.o$/ { cur = $NF; sub(/\.o$/, ".c", cur); next }
	# make'"'"'s own lines (-k lists every goal "not remade" after an error)
	/^make(\[[0-9]+\])?: / { next }
	cur != "" && /warning|error/ {
		line = $0
		p = index(line, cur ":")
		if (p > 0) {
			rest = substr(line, p + length(cur) + 1)
			sub(/^[0-9]+(:[0-9]+)?:/, "", rest)
			line = cur ":" rest
		} else if (index(line, src) == 1) {
			line = substr(line, length(src) + 1)
		}
		f = cur
		gsub("/", "_", f)
		print line >(pre f sfx)
	}' "$logs/$cfg-make.$sfx.log"
	for f in "$@"; do
		m=$logs/$cfg-${f//\//_}.$sfx
		sort -u -o "$m" "$m"
		[ -f "$obj/${f%.c}.o" ] || touch "$m.failed"
	done
}

sparse() {
	local cfg file base_obj new m
	command -v sparse >/dev/null || die "sparse not found: run 'make deps'"
	mapfile -t files < <(git -C "$WB_SRC" diff --no-renames --name-only --diff-filter=AM base..HEAD -- '*.c')
	[ ${#files[@]} -gt 0 ] || return 0
	"$WB_TOP/scripts/basetree.sh" >&2
	for cfg in "$@"; do
		base_obj=$WB_OBJ/base-$cfg
		# Only files this config builds.
		built=()
		for file in "${files[@]}"; do
			[ -f "$WB_OBJ/$cfg/${file%.c}.o" ] && built+=("$file")
		done
		[ ${#built[@]} -gt 0 ] || continue
		warnings "$WB_SRC" "$WB_OBJ/$cfg" "$cfg" series "${built[@]}"
		# The base's warnings excuse the series' own, so they are only
		# needed for a file that warns, and the base's build directory
		# is prepared only then. A file the base lacks, or does not
		# build in this config (its compile fails there, as dma-iommu.c
		# on s390 without IOMMU_DMA), has none: all of the series' count.
		warned=()
		for file in "${built[@]}"; do
			m=$logs/$cfg-${file//\//_}
			: >"$m.base"
			[ -s "$m.series" ] && [ ! -e "$m.series.failed" ] &&
				[ -f "$WB_BASE_SRC/$file" ] && warned+=("$file")
		done
		if [ ${#warned[@]} -gt 0 ]; then
			"$WB_TOP/scripts/build.sh" "$cfg" "$WB_BASE_SRC" "$base_obj" -- prepare >&2 ||
				die "cannot prepare the base for $cfg"
			warnings "$WB_BASE_SRC" "$base_obj" "$cfg" base "${warned[@]}"
			for file in "${warned[@]}"; do
				m=$logs/$cfg-${file//\//_}
				[ ! -e "$m.base.failed" ] || : >"$m.base"
			done
		fi
		for file in "${built[@]}"; do
			m=$logs/$cfg-${file//\//_}
			if [ -e "$m.series.failed" ]; then
				mapfile -t lines <"$m.series"
				result FAIL "sparse-w1/$cfg/$file" "does not compile with C=2 W=1:" "${lines[@]}"
				continue
			fi
			new=$(comm -13 "$m.base" "$m.series")
			if [ -z "$new" ]; then
				result PASS "sparse-w1/$cfg/$file"
			else
				mapfile -t lines <<<"$new"
				result FAIL "sparse-w1/$cfg/$file" "new warnings:" "${lines[@]}"
			fi
		done
	done
}

case "$what" in
checkpatch) checkpatch ;;
submission) submission; kerneldoc; kunitcases ;;
sparse) sparse "$@" ;;
*) die "unknown check '$what'" ;;
esac
