# shellcheck shell=bash
# Test results: every step writes "R<TAB>STATUS<TAB>NAME" and
# "E<TAB>NAME<TAB>TEXT" lines; report() prints them for a person and keeps
# the tally in $WB_RESULTS. Sourced after lib.sh.

WB_RESULTS=${WB_RESULTS:-$WB_BUILD/test/results.tsv}

report() {
	local kind a b
	while IFS=$'\t' read -r kind a b; do
		case "$kind" in
		R)
			printf '%-4s  %s\n' "$a" "$b"
			printf '%s\t%s\n' "$a" "$b" >>"$WB_RESULTS"
			;;
		E) printf '      | %s\n' "$b" ;;
		esac
	done
}

# result STATUS NAME [EXPLANATION...]
result() {
	local status=$1 name=$2 l
	shift 2
	printf 'R\t%s\t%s\n' "$status" "$name"
	for l in "$@"; do
		printf 'E\t%s\t%s\n' "$name" "$l"
	done
}

# A failed command's last lines as explanation.
result_cmd() {
	local name=$1 log=$2
	shift 2
	if "$@" >"$log" 2>&1; then
		result PASS "$name"
	else
		local -a lines
		mapfile -t lines < <(grep -v '^\s*$' "$log" | tail -n 15)
		result FAIL "$name" "${lines[@]}" "full log: $log"
	fi
}

summary() {
	local p f s
	p=$(grep -c '^PASS' "$WB_RESULTS" || true)
	f=$(grep -c '^FAIL' "$WB_RESULTS" || true)
	s=$(grep -c '^SKIP' "$WB_RESULTS" || true)
	if [ "$s" -gt 0 ]; then
		echo "$p passed, $f failed, $s skipped"
	else
		echo "$p passed, $f failed"
	fi
	# No result at all is a failure too: something did not run.
	[ "$f" = 0 ] && [ $((p + s)) -gt 0 ]
}
