#!/bin/sh
# tools/install_hint.sh PREFIX [DESTDIR] - what `make install` prints at the
# end: where things went and how programs find them - the shared library
# (ldconfig for a directory the dynamic linker searches, else rpath or
# LD_LIBRARY_PATH), pkg-config, the manual pages and the example scenarios.
set -u
prefix=$(printf '%s' "${1:?usage: install_hint.sh PREFIX [DESTDIR]}" | sed 's://*:/:g; s:\(.\)/$:\1:')
destdir=${2:-}
lib=$prefix/lib
echo "tern installed in $destdir$prefix: bin/tern, lib/libtern.a, lib/libtern.so,"
echo "  include/tern/, lib/pkgconfig/tern.pc, share/man/man1/tern*.1, share/tern/scenarios/"
[ -n "$destdir" ] && echo "  (staged under DESTDIR=$destdir: the paths below are where it will live)"
# Directories the dynamic linker searches: its built-in ones and ld.so.conf's.
searched=$( { printf '/lib\n/usr/lib\n/lib64\n/usr/lib64\n'
              { /sbin/ldconfig -v -N -X 2>/dev/null || ldconfig -v -N -X 2>/dev/null; } |
                  sed -n 's/^\(\/[^:]*\):.*/\1/p'; } | sort -u)
canon=$lib
if printf '%s\n' "$searched" | grep -qx "$canon"; then
    echo "shared library: $lib is searched by the dynamic linker; run 'ldconfig' (as root)"
    echo "  once so that programs find libtern.so.0"
else
    echo "shared library: $lib is not searched by the dynamic linker: link programs with"
    echo "  -Wl,-rpath,$lib (or run them with LD_LIBRARY_PATH=$lib), or add $lib to"
    echo "  /etc/ld.so.conf.d/ and run ldconfig"
fi
if command -v pkg-config >/dev/null 2>&1 &&
   ! pkg-config --variable pc_path pkg-config | tr : '\n' | grep -qx "$canon/pkgconfig"; then
    echo "pkg-config: export PKG_CONFIG_PATH=$lib/pkgconfig"
fi
if command -v manpath >/dev/null 2>&1 &&
   ! manpath 2>/dev/null | tr : '\n' | sed 's:/$::' | grep -qx "$prefix/share/man"; then
    echo "manual pages: man -M $prefix/share/man tern (or add it to MANPATH)"
fi
echo "example scenarios: tern sim $prefix/share/tern/scenarios/demo.scn"
