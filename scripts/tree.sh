#!/usr/bin/env bash
# make tree: the Debian base as a git repo tagged 'base', plus patches/ applied
# with git am, one commit per patch, on the branch 'work'. Does nothing when
# the tree already holds exactly what patches/ holds; refuses to throw away
# work that was not exported (FORCE=1 does).
. "$(dirname "$0")/lib.sh"

force=${FORCE:-0}
tarball=$(dpkg -L "$WB_DEB_PKG" 2>/dev/null | grep '/linux-source-6\.1\.tar\.xz$' || true)
[ -n "$tarball" ] && [ -f "$tarball" ] ||
	die "$WB_DEB_PKG is not installed: run 'make deps' (or apt-get install $WB_DEB_PKG)"
debver=$(dpkg-query -W -f='${Version}' "$WB_DEB_PKG")
wb_identity
series=$(wb_series)

extract() {
	local tmp=$WB_SRC.new kver
	note "extracting $tarball ($WB_DEB_PKG $debver)"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	# --touch: a new base must never look older than objects built before.
	tar -xf "$tarball" -C "$tmp" --strip-components=1 --touch
	kver=$(make -s -C "$tmp" kernelversion)
	# Debian's packaging appends a stanza that ignores every top-level
	# entry ("/*"), which would hide new files from git; it is not part of
	# the kernel, so the base commit leaves it out.
	sed -i '/^# Debian packaging: ignore everything/,$d' "$tmp/.gitignore"
	sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$tmp/.gitignore"
	sed -i '${/^#$/d}' "$tmp/.gitignore"
	git -C "$tmp" init -q -b work
	git -C "$tmp" config user.name "$SERIES_AUTHOR_NAME"
	git -C "$tmp" config user.email "$SERIES_AUTHOR_EMAIL"
	git -C "$tmp" config gc.auto 0
	# -f: the kernel's own .gitignore hides dot files such as .gitignore.
	git -C "$tmp" add -A -f
	GIT_AUTHOR_DATE="@0 +0000" GIT_COMMITTER_DATE="@0 +0000" \
		git -C "$tmp" commit -q -m "base: Debian $WB_DEB_PKG $debver (Linux $kver)" \
		-m "Extracted from $(basename "$tarball"); Debian's catch-all '/*' stanza in
.gitignore is dropped so that git sees new files."
	git -C "$tmp" tag base
	echo "$WB_DEB_PKG $debver (Linux $kver)" >"$tmp/.git/wb-base-version"
	if [ -d "$WB_SRC" ]; then
		# Objects and stamps of the old base mean nothing for the new one.
		rm -rf "$WB_SRC" "$WB_BASE_SRC" "$WB_OBJ" "$WB_BUILD/stamps"
	fi
	mv "$tmp" "$WB_SRC"
}

# Refuses (unless FORCE=1) when the tree holds work patches/ does not.
guard() {
	[ "$force" = 1 ] && return 0
	[ -z "$(git -C "$WB_SRC" status --porcelain)" ] ||
		die "$WB_SRC has uncommitted or untracked changes: commit and 'make export' them, or FORCE=1 to drop them"
	[ "$(git -C "$WB_SRC" symbolic-ref -q HEAD)" = refs/heads/work ] ||
		die "$WB_SRC is not on its branch 'work' (an interrupted bisect?): 'git checkout work' there, or FORCE=1"
	if [ -n "$(git -C "$WB_SRC" log --format=%H base..HEAD)" ]; then
		"$WB_TOP/scripts/export.sh" --check-subset ||
			die "$WB_SRC has commits that are not in patches/: 'make export' them, or FORCE=1 to drop them"
	fi
}

if [ -d "$WB_SRC/.git" ] && ! git -C "$WB_SRC" rev-parse -q --verify refs/tags/base >/dev/null; then
	die "$WB_SRC exists but has no tag 'base': remove $WB_SRC and run make tree again"
fi
if [ -d "$WB_SRC/.git" ]; then
	recorded=$(cat "$WB_SRC/.git/wb-base-version" 2>/dev/null || echo unknown)
	case "$recorded" in
	"$WB_DEB_PKG $debver "*) ;;
	*)
		note "installed base is $WB_DEB_PKG $debver, the tree was made from $recorded"
		guard
		extract
		;;
	esac
else
	extract
fi
echo "base: $(cat "$WB_SRC/.git/wb-base-version")"

cd "$WB_SRC"
git config user.name "$SERIES_AUTHOR_NAME"
git config user.email "$SERIES_AUTHOR_EMAIL"

# Up to date when exporting the tree would reproduce patches/ exactly.
if [ "$(git symbolic-ref -q HEAD)" = refs/heads/work ] &&
	[ -z "$(git status --porcelain --untracked-files=no)" ] &&
	"$WB_TOP/scripts/export.sh" --check >/dev/null 2>&1; then
	wb_patches_hash >.git/wb-patches
	echo "tree: $WB_SRC up to date ($(git rev-list --count base..HEAD) patches on base)"
	exit 0
fi

guard
[ -d .git/rebase-apply ] && git am --abort
git checkout -q -f -B work base
git clean -q -f -d
n=0
for p in $series; do
	if ! git am -q --committer-date-is-author-date "$p" >/dev/null 2>"$WB_BUILD/am.log"; then
		cat "$WB_BUILD/am.log" >&2
		git am --abort || true
		die "patch $(basename "$p") does not apply to $(git describe --always --tags HEAD)"
	fi
	n=$((n + 1))
done
wb_patches_hash >.git/wb-patches
echo "tree: applied $n patches on base in $WB_SRC"
