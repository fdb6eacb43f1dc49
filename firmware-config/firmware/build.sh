#!/bin/sh
# Builds the Kuroko firmware for the ATmega328P (Uno, Nano) from source.
# Output: build/kuroko-atmega328p.hex. The build is reproducible: no dates, no paths in the image,
# fixed flags, so two builds give the same bytes (test/hardware/firmware-build.test.ts checks it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/build"}
for tool in avr-gcc avr-objcopy; do
  command -v "$tool" >/dev/null 2>&1 || { echo "kuroko firmware: $tool not found; install the Debian packages gcc-avr binutils-avr avr-libc" >&2; exit 127; }
done
version=$(tr -d ' \n' < "$here/VERSION")
major=${version%%.*}
minor=${version#*.}
mkdir -p "$out"
# Build in a private folder, then rename into place: parallel test workers may build at once.
tmp=$(mktemp -d "$out/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$here"
# -frandom-seed keeps any generated symbol names stable; relative source path keeps paths out.
avr-gcc -mmcu=atmega328p -DF_CPU=16000000UL -DKUROKO_VERSION_MAJOR="$major" -DKUROKO_VERSION_MINOR="$minor" \
  -Os -std=gnu11 -Wall -Wextra -Werror -ffunction-sections -fdata-sections -Wl,--gc-sections \
  -frandom-seed=kuroko -o "$tmp/kuroko-atmega328p.elf" kuroko.c
avr-objcopy -O ihex -R .eeprom "$tmp/kuroko-atmega328p.elf" "$tmp/kuroko-atmega328p.hex"
size=$(avr-size -A "$tmp/kuroko-atmega328p.elf" | awk '/^\.text/ {t=$2} /^\.data/ {d=$2} END {print t+d}')
mv -f "$tmp/kuroko-atmega328p.elf" "$out/kuroko-atmega328p.elf"
mv -f "$tmp/kuroko-atmega328p.hex" "$out/kuroko-atmega328p.hex"
echo "kuroko firmware $version: $out/kuroko-atmega328p.hex ($size bytes of flash)"
