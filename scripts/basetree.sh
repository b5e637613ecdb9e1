#!/usr/bin/env bash
# The unpatched base as a git worktree of the tag 'base', for builds that
# compare base and series side by side.
. "$(dirname "$0")/lib.sh"
git -C "$WB_SRC" rev-parse -q --verify refs/tags/base >/dev/null ||
	die "no kernel tree with a tag 'base': run 'make tree' first"
if ! git -C "$WB_BASE_SRC" rev-parse -q --verify HEAD >/dev/null 2>&1 ||
	[ "$(git -C "$WB_BASE_SRC" rev-parse --git-common-dir)" != "$(git -C "$WB_SRC" rev-parse --absolute-git-dir)" ]; then
	# Missing, or left over from a tree that was made again.
	rm -rf "$WB_BASE_SRC"
	git -C "$WB_SRC" worktree prune
	git -C "$WB_SRC" worktree add -q --detach "$WB_BASE_SRC" base
fi
if [ "$(git -C "$WB_BASE_SRC" rev-parse HEAD)" != "$(git -C "$WB_SRC" rev-parse base)" ]; then
	git -C "$WB_BASE_SRC" checkout -q --detach base
fi
echo "base tree: $WB_BASE_SRC"
