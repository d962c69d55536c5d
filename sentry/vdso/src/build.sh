#!/bin/sh
# Builds the vDSO image from vdso.c, vvar.h and vdso.lds (this directory
# holds no Go, so the go tool leaves the C alone):
#   build.sh           (make vdso) rebuilds ../vdso.so and records in
#                      ../vdso.sum the compiler and the SHA-256 of the inputs
#                      and the image
#   build.sh OUT       writes the shared object to OUT only (the tests)
# Freestanding, position independent, no libc, stripped; the linker script
# decides the layout and the exported, versioned symbols.
set -eu
cd "$(dirname "$0")"
CC=${CC:-gcc}
FLAGS="-std=gnu11 -O2 -Wall -Werror -fPIC -ffreestanding -fno-builtin -fno-stack-protector \
-fcf-protection=none -mno-sse -mno-mmx -mno-red-zone -nostdlib -shared -s \
-Wl,-T,vdso.lds -Wl,-soname=linux-vdso.so.1 -Wl,--hash-style=both -Wl,--eh-frame-hdr \
-Wl,--build-id=none -Wl,-Bsymbolic -Wl,--no-undefined -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack"
if [ $# -eq 1 ]; then
	# shellcheck disable=SC2086
	exec "$CC" $FLAGS -o "$1" vdso.c
fi
# shellcheck disable=SC2086
"$CC" $FLAGS -o ../vdso.so vdso.c
chmod 644 ../vdso.so
{
	echo "compiler $("$CC" --version | head -n 1)"
	sha256sum build.sh vdso.c vdso.lds vvar.h ../vdso.so
} >../vdso.sum
