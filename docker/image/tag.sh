#!/usr/bin/env bash
# The image tag: a hash of the files that define the image, so edits rebuild and nothing else does.
here=$(cd "$(dirname "$0")" && pwd)
sum=$(cat "$here/build.sh" "$here/init.sh" | sha256sum | cut -c1-12)
echo "lvsprov-lab:$sum"
