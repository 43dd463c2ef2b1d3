#!/usr/bin/env bash
# The image tag: a hash of the files that define the image, so edits rebuild and nothing else does.
#   tag.sh [RELEASE]   (bookworm by default; another Debian release gets its own tag)
here=$(cd "$(dirname "$0")" && pwd)
release=${1:-bookworm}
sum=$(cat "$here/build.sh" "$here/init.sh" | sha256sum | cut -c1-12)
if [ "$release" = bookworm ]; then echo "lvsprov-lab:$sum"; else echo "lvsprov-lab:$release-$sum"; fi
