#!/bin/sh
# Install the sample config tree without overwriting an admin's files.
set -eu
src=$1 dst=$2
for f in tern.conf services.conf defaults/domain.conf; do
	if [ -e "$dst/$f" ]; then
		echo "keeping existing $dst/$f"
	else
		install -d "$(dirname "$dst/$f")"
		install -m 644 "$src/$f" "$dst/$f"
	fi
done
