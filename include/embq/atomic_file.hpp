// The one way embq publishes a file: write it under a temporary name beside the target,
// then commit() renames it into place. An AtomicFile destroyed without commit() (an
// exception, an early return) removes its temporary file, so a failed run leaves nothing
// behind and never replaces the target with a partial file; a SIGINT or SIGTERM removes
// it too (core/interrupt_cleanup.hpp).
//
// A target that is a symlink is written through: the file it points to is replaced and
// the link stays. Targets that cannot be replaced atomically (a directory, a device such
// as /dev/null, a FIFO, a socket) are refused by check_output_path() before any work.
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace embq {

class InterruptCleanup;

class AtomicFile {
public:
    // Nothing is created until stream() is called or a writer writes temp_path().
    explicit AtomicFile(std::filesystem::path target);
    ~AtomicFile();  // removes the temporary file unless committed
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    const std::filesystem::path& target() const { return target_; }
    // "<target>.tmp-<pid>" (beside the file a symlink target points to): for writers
    // that take a path.
    const std::filesystem::path& temp_path() const { return temp_; }
    // The temporary file opened for binary writing (on first call). Runtime error when it
    // cannot be created.
    std::ofstream& stream();

    // Flushes and closes the stream (when opened), then renames the temporary file onto
    // the target. Runtime error naming the target when any step fails (disk full, a
    // directory that is not writable); the temporary file is removed then too.
    void commit();
    bool committed() const { return committed_; }

private:
    std::filesystem::path target_;       // as the user named it (messages)
    std::filesystem::path destination_;  // the file replaced: target_ with symlinks resolved
    std::filesystem::path temp_;
    std::unique_ptr<InterruptCleanup> cleanup_;
    std::ofstream out_;
    bool opened_ = false;
    bool committed_ = false;
};

// Whether writing `output` would replace `input`: both exist and are one file (also
// through a symlink or a hard link). Commands refuse such an -o before any work.
bool is_same_file(const std::filesystem::path& output, const std::filesystem::path& input);

// Usage error unless `path` can be published by an AtomicFile: it is missing or a regular
// file (directly or through a symlink), and its directory exists. `option` names the
// flag in the message ("-o", "--report-json").
void check_output_path(const std::filesystem::path& path, const std::string& option);

// Usage error when `path` exists and is not a regular file (a FIFO would block, a
// directory is a typo), for inputs read as a whole, perhaps more than once. A missing
// path passes: its reader says so.
void check_regular_input(const std::filesystem::path& path, const std::string& option);

// Writes `content` to `path` through an AtomicFile: readers never see half a file.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

}  // namespace embq
