#!/bin/sh
# Builds the emulated Uno (kuroko-avr-sim) and optiboot for it.
# Needs: gcc, pkg-config, libsimavr-dev, libelf-dev (for simavr's pkg-config file), gcc-avr, avr-libc,
# and arduino-core-avr (Debian's optiboot source).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/build"}
mkdir -p "$out"
# Build in a private folder, then rename into place: parallel test workers may build at once.
tmp=$(mktemp -d "$out/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "kuroko simavr: $*" >&2; exit 127; }
command -v cc >/dev/null 2>&1 || fail "no C compiler; install the Debian package gcc"
command -v pkg-config >/dev/null 2>&1 || fail "pkg-config not found; install the Debian package pkg-config"
pkg-config --exists simavr 2>/dev/null || fail "simavr not found by pkg-config; install the Debian packages libsimavr-dev libelf-dev"
cc -O2 -Wall -Wextra -o "$tmp/kuroko-avr-sim" "$here/kuroko-avr-sim.c" $(pkg-config --cflags --libs simavr) -lutil
mv -f "$tmp/kuroko-avr-sim" "$out/kuroko-avr-sim"
echo "kuroko simavr: $out/kuroko-avr-sim"

# optiboot: Debian's arduino-core-avr ships the source. Its prebuilt optiboot_atmega328.hex is 534
# bytes and overruns the 512-byte boot section, so build it without the start-up LED flashes.
src=/usr/share/arduino/hardware/arduino/avr/bootloaders/optiboot
[ -f "$src/optiboot.c" ] || fail "optiboot source not found at $src; install the Debian package arduino-core-avr"
command -v avr-gcc >/dev/null 2>&1 || fail "avr-gcc not found; install the Debian packages gcc-avr binutils-avr avr-libc"
avr-gcc -Wall -Wno-unused-function -Os -fno-inline-small-functions -fno-split-wide-types -mshort-calls -mmcu=atmega328p \
  -DF_CPU=16000000L -DLED_START_FLASHES=0 -DBAUD_RATE=115200 -I"$src" \
  -Wl,--section-start=.text=0x7e00 -Wl,--section-start=.version=0x7ffe -Wl,--relax -Wl,--gc-sections \
  -nostartfiles -nostdlib -o "$tmp/optiboot_atmega328.elf" "$src/optiboot.c"
avr-objcopy -j .text -j .data -j .version --set-section-flags .version=alloc,load -O ihex \
  "$tmp/optiboot_atmega328.elf" "$tmp/optiboot_atmega328.raw.hex"
# Drop the start-address record (type 03): it means nothing to a bootloader image.
grep -v '^:04000003' "$tmp/optiboot_atmega328.raw.hex" > "$tmp/optiboot_atmega328.hex"
size=$(avr-size -A "$tmp/optiboot_atmega328.elf" | awk '/^\.text/ {print $2}')
[ "$size" -le 510 ] || fail "optiboot is $size bytes: too big for the 512-byte boot section"
mv -f "$tmp/optiboot_atmega328.hex" "$out/optiboot_atmega328.hex"
echo "kuroko simavr: $out/optiboot_atmega328.hex ($size bytes)"
