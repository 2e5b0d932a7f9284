// The one way embq publishes a file: write it under a temporary name beside the target,
// then commit() renames it into place. An AtomicFile destroyed without commit() (an
// exception, an early return) removes its temporary file, so a failed run leaves nothing
// behind and never replaces the target with a partial file.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace embq {

class AtomicFile {
public:
    // Nothing is created until stream() is called or a writer writes temp_path().
    explicit AtomicFile(std::filesystem::path target);
    ~AtomicFile();  // removes the temporary file unless committed
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    const std::filesystem::path& target() const { return target_; }
    // "<target>.tmp-<pid>": for writers that take a path (libtorch's archive writer).
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
    std::filesystem::path target_, temp_;
    std::ofstream out_;
    bool opened_ = false;
    bool committed_ = false;
};

// Whether writing `output` would replace `input`: both exist and are one file (also
// through a symlink or a hard link). Commands refuse such an -o before any work.
bool is_same_file(const std::filesystem::path& output, const std::filesystem::path& input);

// Writes `content` to `path` through an AtomicFile: readers never see half a file.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

}  // namespace embq
