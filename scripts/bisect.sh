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

# A stamp is valid for what the config's fragments ask, its own and those it
# includes, so that editing one config does not rebuild the others.
declare -A keys
for cfg in "$@"; do
	keys[$cfg]=$(wb_fragments "$cfg" | xargs cat | sha256sum | cut -c1-16)
done
stamps=$WB_BUILD/stamps
logs=$WB_BUILD/test/bisect
mkdir -p "$stamps" "$logs"
n=0
for c in "${commits[@]}"; do
	n=$((n + 1))
	subj=$(git log -1 --format=%f "$c" | cut -c1-52)
	tree=$(git rev-parse "$c^{tree}")
	for cfg in "$@"; do
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
