#!/usr/bin/env bash
# Writes embq's man page (section 1) from the help of the embq binary itself, so the page
# says exactly what `embq --help` and `embq help COMMAND` say. Run by the build.
# Usage: make_man.sh EMBQ_BINARY VERSION OUT.1
set -euo pipefail
embq=$1 version=$2 out=$3

# Help text as roff: backslashes doubled, a leading dot or quote escaped, in no-fill mode.
as_roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

commands=$("$embq" --help | sed -n '/^Subcommands:/,$p' | awk '/^  [a-z]/ {print $1}' | grep -v '^help$')
{
  echo ".TH EMBQ 1 \"\" \"embq $version\" \"User Commands\""
  echo ".SH NAME"
  echo "embq \\- quantize embedding models without losing their quality"
  echo ".SH SYNOPSIS"
  echo ".B embq"
  echo "[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]..."
  echo ".SH DESCRIPTION"
  echo ".nf"
  "$embq" --help | as_roff
  echo ".fi"
  echo ".SH COMMANDS"
  for command in $commands; do
    echo ".SS embq $command"
    echo ".nf"
    "$embq" help "$command" | as_roff
    echo ".fi"
  done
  cat <<'ROFF'
.SH EXIT STATUS
.TP
.B 0
Success.
.TP
.B 1
A quality gate failed (eval, compare), no config passed (tune), or with \-\-fail\-if\-slower a model was slower than the first (bench).
.TP
.B 2
Bad usage, config or input: nothing was done and no file was written.
.TP
.B 3
A run\-time failure (a model that fails while running, a full disk).
.SH ENVIRONMENT
.TP
.B EMBQ_CONFIGS_DIR
A directory of configs that replaces the shipped presets.
.TP
.B EMBQ_PROGRESS_SECONDS
Seconds between plain progress lines when stderr is not a terminal (default 30).
.TP
.B OPENBLAS_NUM_THREADS
OpenBLAS threads; embq keeps it at 1 unless this is set.
.TP
.B MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_, GLIBC_TUNABLES
glibc malloc settings; unless one is set, embq keeps freed memory for reuse (blocks up to
32 MiB from the heap, up to 64 MiB of free heap kept).
.SH SEE ALSO
The README of the embq sources: the commands with examples, the configs, the benchmarks.
ROFF
} > "$out.tmp"
mv "$out.tmp" "$out"
