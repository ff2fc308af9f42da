#!/bin/bash
# Run on a Debian 12 build machine: fetches what tests/gpu/run.sh needs on a GPU
# machine that has python3 torch and a compiler but no package registry into
# tests/gpu/carry/ (ignored by git; about 15 MB): the .deb files of GLib,
# json-glib, Check and GStreamer with its tools and base plugins (unpacked there into a
# private prefix, never into /) and Fashion-MNIST's test set (the test top-1 of
# the GPU level family).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/carry/debs" "$here/carry/fashion-mnist"
cd "$here/carry/debs"
rm -f ./*.deb
apt-get download libglib2.0-0 libglib2.0-dev libjson-glib-1.0-0 libjson-glib-dev check libsubunit0 libsubunit-dev \
  libgstreamer1.0-0 libgstreamer1.0-dev libgstreamer-plugins-base1.0-0 libgstreamer-plugins-base1.0-dev \
  gstreamer1.0-plugins-base gstreamer1.0-tools liborc-0.4-0 libunwind8 libdw1 libelf1
cp /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz \
   "$here/carry/fashion-mnist/"
du -sh "$here/carry"
