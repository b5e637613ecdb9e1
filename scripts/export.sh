#!/usr/bin/env bash
# make export: write the commits of the kernel tree since 'base' to patches/
# as git format-patch files with stable names and no volatile hashes, plus the
# series file, and the cover letter 0000-cover-letter.patch: the text of
# cover-letter.txt (subject line, blank line, body), the shortlog and the
# diffstat, from the identity of identity.conf.
#   --check         exit 0 if exporting would change no patch or series file
#   --check-subset  exit 0 if every commit since base is already in patches/
#   --check-cover   exit 0 if the cover letter is what exporting would write
. "$(dirname "$0")/lib.sh"

mode=${1:-export}
[ -d "$WB_SRC/.git" ] || die "no kernel tree at $WB_SRC: run 'make tree' first"
wb_identity
[ -z "$(git -C "$WB_SRC" rev-list --merges base..HEAD)" ] ||
	die "the tree has merge commits since base: format-patch cannot export them"
want="$SERIES_AUTHOR_NAME <$SERIES_AUTHOR_EMAIL>"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

while IFS=$'\t' read -r sha who; do
	[ "$who" = "$want" ] ||
		die "commit $(git -C "$WB_SRC" log -1 --format='%h ("%s")' "$sha") is by $who, not by the series identity $want (identity.conf)"
done < <(git -C "$WB_SRC" log --format=$'%H\t%an <%ae>' base..HEAD)

prefix=PATCH
[ "$WB_SERIES_VERSION" -le 1 ] || prefix="PATCH v$WB_SERIES_VERSION"
git -C "$WB_SRC" -c core.abbrev=12 format-patch -q --numbered \
	--subject-prefix="$prefix" \
	--zero-commit --no-signature -o "$tmp/p" base..HEAD >/dev/null
mkdir -p "$tmp/p"
{
	echo "# The series, applied in this order by 'make tree' (git am)."
	echo "# Written by 'make export'; base: the tag 'base' of 'make tree'."
	(cd "$tmp/p" && ls -1 | grep '\.patch$' | sort) || true
} >"$tmp/p/series"

# The cover letter, in its own directory: the checks of the patches ignore it.
npatches=$(git -C "$WB_SRC" rev-list --count base..HEAD)
cover_txt=$WB_TOP/cover-letter.txt
[ -f "$cover_txt" ] || die "no $cover_txt"
mkdir -p "$tmp/c"
{
	echo "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001"
	echo "From: $want"
	echo "Date: $(git -C "$WB_SRC" log -1 --format=%aD HEAD)"
	# Numbered as format-patch numbers the patches: as wide as the count.
	printf 'Subject: [%s %0*d/%d] %s\n\n' "$prefix" ${#npatches} 0 "$npatches" "$(head -n 1 "$cover_txt")"
	tail -n +3 "$cover_txt"
	echo
	echo "Based on $(cat "$WB_SRC/.git/wb-base-version" 2>/dev/null || echo "the tag 'base'")."
	echo
	git -C "$WB_SRC" shortlog base..HEAD
	git -C "$WB_SRC" diff --stat=72 --summary base..HEAD
	echo
} >"$tmp/c/0000-cover-letter.patch"

current() {
	(cd "$WB_TOP/patches" 2>/dev/null && ls -1 | grep -E '^[0-9]{4}-.*\.patch$' |
		grep -v '^0000-cover-letter\.patch$') || true
}

case "$mode" in
--check)
	[ "$(current)" = "$(cd "$tmp/p" && ls -1 | grep '\.patch$' | sort)" ] || exit 1
	cmp -s "$tmp/p/series" "$WB_TOP/patches/series" || exit 1
	for f in "$tmp"/p/*.patch; do
		[ -e "$f" ] || continue
		cmp -s "$f" "$WB_TOP/patches/$(basename "$f")" || exit 1
	done
	exit 0
	;;
--check-cover)
	have=$WB_TOP/patches/0000-cover-letter.patch
	cmp -s "$tmp/c/0000-cover-letter.patch" "$have" && exit 0
	# Debian moves its package revision on (6.1.192-2 to -3) while the
	# Linux version stays: a machine installed later must not fail a
	# cover letter that is otherwise what exporting writes. Another Linux
	# version is another base, and that still fails.
	based='s/^(Based on [^ ]+) [^ ]+ (\(Linux [^)]*\)\.)$/\1 * \2/'
	if cmp -s <(sed -E "$based" "$tmp/c/0000-cover-letter.patch") <(sed -E "$based" "$have"); then
		note "the cover letter names $(sed -n 's/^Based on \(.*\)\.$/\1/p' "$have") as the base, this tree $(cat "$WB_SRC/.git/wb-base-version" 2>/dev/null): the same Linux version"
		exit 0
	fi
	exit 1
	;;
--check-subset)
	for f in "$tmp"/p/*.patch; do
		[ -e "$f" ] || continue
		found=0
		for g in "$WB_TOP"/patches/[0-9][0-9][0-9][0-9]-*.patch; do
			[ -e "$g" ] || continue
			if [ "$(sed 1,/^Subject:/d "$f")" = "$(sed 1,/^Subject:/d "$g")" ] &&
				[ "$(grep -m1 '^Subject:' "$f")" = "$(grep -m1 '^Subject:' "$g")" ]; then
				found=1
				break
			fi
		done
		[ $found = 1 ] || { echo "not in patches/: $(grep -m1 '^Subject:' "$f")" >&2; exit 1; }
	done
	exit 0
	;;
export) ;;
*) die "usage: export.sh [--check|--check-subset|--check-cover]" ;;
esac

if [ "${FORCE:-0}" != 1 ]; then
	[ "$(git -C "$WB_SRC" symbolic-ref -q HEAD)" = refs/heads/work ] ||
		die "$WB_SRC is not on its branch 'work': 'git checkout work' there first, or FORCE=1"
	# patches/ must be what the tree was made from (or last exported to),
	# or patches changed there since would be lost.
	[ "$(wb_patches_hash)" = "$(cat "$WB_SRC/.git/wb-patches" 2>/dev/null)" ] ||
		die "patches/ changed since the tree was made from it: 'make tree' first, or FORCE=1 to overwrite it"
fi

mkdir -p "$WB_TOP/patches"
for f in $(current); do
	rm -f "$WB_TOP/patches/$f"
done
cp "$tmp"/p/*.patch "$WB_TOP/patches/" 2>/dev/null || true
cp "$tmp/p/series" "$WB_TOP/patches/series"
cp "$tmp/c/0000-cover-letter.patch" "$WB_TOP/patches/"
wb_patches_hash >"$WB_SRC/.git/wb-patches"
n=$(grep -vc '^#' "$WB_TOP/patches/series" || true)
echo "export: $n patches in patches/"
