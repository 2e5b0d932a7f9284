// Which command-line values name files embq reads and which name files it writes, so that
// one check, before any work, keeps every command from replacing its own inputs or
// writing where a file cannot be replaced atomically. Options are tagged where they are
// declared; main() runs check_paths() on the chosen command.
#pragma once

#include <CLI/CLI.hpp>

namespace embq::cli {

// A file read as a whole, possibly more than once (a model, a config, a vector file,
// texts that are embedded by two models): a regular file (or a symlink to one).
CLI::Option* reads_file(CLI::Option* option);
// A model: a TorchScript file, or a directory holding one (model.pt, else its only .pt
// file) with the card and tokenizer beside it, which the card lookup then finds. The
// directory is replaced by the file before any check, so every later check and message
// sees the file. Otherwise as reads_file.
CLI::Option* reads_model(CLI::Option* option);
// As reads_model, or a directory of `embq embed --shard` output (shards.hpp): eval's
// --baseline and --candidate.
CLI::Option* reads_model_or_shards(CLI::Option* option);
// Texts read once from start to end: a regular file, a pipe or /dev/stdin.
CLI::Option* reads_stream(CLI::Option* option);
// A file written through an AtomicFile: missing or a regular file, in a directory that
// exists.
CLI::Option* writes_file(CLI::Option* option);

// Usage errors: an output that is a directory, a device, a FIFO or a socket, or whose
// directory is missing; an output that is one of the inputs (by path, symlink or hard
// link) or another output; an input that must be a regular file and is not.
void check_paths(const CLI::App& command);

}  // namespace embq::cli
