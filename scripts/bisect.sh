#!/usr/bin/env bash
# Bisectability: every patch of the series builds in every config given.
# bisect.sh CONFIG... checks out each commit between base and HEAD (HEAD is
# what the normal build builds) in the kernel tree and builds it in the
# config's usual O= directory, so only what a patch changes is rebuilt. A
# commit whose tree already built in a config is not built again, nor is one
# that changes nothing the config's objects were built from (see unchanged).
. "$(dirname "$0")/lib.sh"
. "$WB_TOP/scripts/results.sh"

[ $# -gt 0 ] || exit 0
cd "$WB_SRC"
mapfile -t commits < <(git rev-list --reverse base..HEAD^ 2>/dev/null || true)
[ ${#commits[@]} -gt 0 ] || exit 0
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	die "$WB_SRC has uncommitted changes: commit them before the bisect builds"
[ "$(git symbolic-ref -q HEAD)" = refs/heads/work ] ||
	die "$WB_SRC is not on its branch 'work'"
trap 'git checkout -q -f work' EXIT
# unchanged OBJ TREE: would building TREE in OBJ rebuild nothing? True when
# OBJ was last built from a tree (build.sh records it) that differs from TREE
# only in files no object in OBJ depends on (Kbuild's .cmd files list every
# source and header an object was built from), and in no Kconfig, Makefile,
# Kbuild or scripts/ file, which could change what is built.
unchanged() {
	local obj=$1 tree=$2 last pat f
	last=$(cat "$obj/.wb-built-tree" 2>/dev/null) || return 1
	[ -f "$obj/.config" ] && [ -n "$last" ] || return 1
	pat=$(mktemp)
	git diff --name-only "$last" "$tree" >"$pat" || { rm -f "$pat"; return 1; }
	if grep -qE '(^|/)(Kconfig[^/]*|Makefile[^/]*|Kbuild[^/]*)$|^scripts/' "$pat"; then
		rm -f "$pat"
		return 1
	fi
	while IFS= read -r f; do echo "$WB_SRC/$f"; done <"$pat" >"$pat.abs"
	rm -f "$pat"
	if [ -s "$pat.abs" ] &&
		[ -n "$(grep -rlF --include='.*.cmd' -f "$pat.abs" "$obj" 2>/dev/null | head -n 1)" ]; then
		rm -f "$pat.abs"
		return 1
	fi
	rm -f "$pat.abs"
	echo "$tree" >"$obj/.wb-built-tree"
}

# "# bisect: HEAD" marks a config built at HEAD only (make test builds it),
# as its build of every patch would compile nothing differently from the
# config it includes: it must not change the value of any symbol that a
# file the series touches tests. That is checked here, on the two .configs
# at HEAD, as one result; a failure names the files and symbols.
head_only() {
	local cfg=$1 inc a b syms used bad
	inc=$(sed -n 's/^# include: *//p' "$WB_TOP/configs/$cfg.config" | head -n 1)
	inc=${inc%.config}
	if [ -z "$inc" ]; then
		result FAIL "bisect/$cfg/head-only" "configs/$cfg.config says 'bisect: HEAD' but includes no config that is built for every patch"
		return
	fi
	for c in "$cfg" "$inc"; do
		if ! "$WB_TOP/scripts/build.sh" "$c" -- olddefconfig >"$logs/$c-config.log" 2>&1; then
			result FAIL "bisect/$cfg/head-only" "cannot configure $c: see $logs/$c-config.log"
			return
		fi
	done
	a=$WB_OBJ/$cfg/.config b=$WB_OBJ/$inc/.config
	# Symbols whose values differ ("is not set" and absent are the same).
	syms=$(join -a1 -a2 -e n -o 0,1.2,2.2 \
		<(sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)$/\1 \2/p' "$a" | sort) \
		<(sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)$/\1 \2/p' "$b" | sort) |
		awk '$2 != $3 { print $1 }')
	# A C file, header or Makefile the series touches compiles after every
	# symbol it tests; of a Kconfig file only the series' own lines count
	# (the symbols their depends, select, default and if lines name, not
	# the words of a help text): a shared one such
	# as lib/Kconfig.debug names hundreds that change nothing the series
	# compiles.
	used=$( (cd "$WB_SRC" &&
		git diff --no-renames --name-only --diff-filter=AM base..HEAD -- '*.c' '*.h' '*Makefile*' |
			xargs -r grep -HowE 'CONFIG_[A-Za-z0-9_]+'
		git diff --no-renames -U0 base..HEAD -- '*Kconfig*' |
			awk '/^\+\+\+ b\// { f = substr($2, 3); next }
			     /^\+[ \t]*(depends|select|imply|default|def_bool|def_tristate|if|visible|range)[ \t]/ {
				      sub(/#.*/, ""); n = split($0, w, /[^A-Za-z0-9_]+/)
				      for (i = 1; i <= n; i++)
					      if (w[i] ~ /^[A-Z][A-Z0-9_]+$/)
						      print f ":CONFIG_" w[i] }') |
		sed -E 's/_MODULE$//' | sort -u)
	bad=$(awk 'NR == FNR { s[$1] = 1; next } { split($0, p, ":"); if (p[2] in s) print "  " $0 }' \
		<(echo "$syms") <(echo "$used"))
	if [ -n "$bad" ]; then
		mapfile -t lines <<<"$bad"
		result FAIL "bisect/$cfg/head-only" "files of the series test symbols $cfg sets otherwise than $inc, so every patch must be built in it:" "${lines[@]}"
	else
		result PASS "bisect/$cfg/head-only"
	fi
}

# A stamp is valid for what the config's fragments ask, its own and those it
# includes, so that editing one config does not rebuild the others.
declare -A keys
for cfg in "$@"; do
	keys[$cfg]=$(wb_fragments "$cfg" | xargs cat | sha256sum | cut -c1-16)
done
stamps=$WB_BUILD/stamps
logs=$WB_BUILD/test/bisect
mkdir -p "$stamps" "$logs"
per_patch=()
for cfg in "$@"; do
	if grep -qx '# bisect: HEAD' "$WB_TOP/configs/$cfg.config"; then
		head_only "$cfg"
	else
		per_patch+=("$cfg")
	fi
done
[ ${#per_patch[@]} -gt 0 ] || exit 0
n=0
for c in "${commits[@]}"; do
	n=$((n + 1))
	subj=$(git log -1 --format=%f "$c" | cut -c1-52)
	tree=$(git rev-parse "$c^{tree}")
	for cfg in "${per_patch[@]}"; do
		name=bisect/$cfg/$(printf '%04d' "$n")-$subj
		key=${keys[$cfg]}
		if [ -f "$stamps/$cfg-$tree-$key" ]; then
			result PASS "$name"
			continue
		fi
		if unchanged "$WB_OBJ/$cfg" "$tree"; then
			touch "$stamps/$cfg-$tree-$key"
			result PASS "$name"
			continue
		fi
		git checkout -q -f --detach "$c"
		# A config may build less per commit ("# bisect-targets:"); HEAD
		# itself is always built in full by make test.
		read -r -a targets < <(sed -n 's/^# bisect-targets: *//p' "$WB_TOP/configs/$cfg.config" | tr '\n' ' '; echo)
		if "$WB_TOP/scripts/build.sh" "$cfg" ${targets[@]:+-- "${targets[@]}"} >"$logs/$cfg-$n.log" 2>&1; then
			touch "$stamps/$cfg-$tree-$key"
			result PASS "$name"
		else
			mapfile -t lines < <(grep -E 'error|warning' "$logs/$cfg-$n.log" | head -n 15)
			result FAIL "$name" "${lines[@]}" "full log: $logs/$cfg-$n.log"
		fi
	done
done
