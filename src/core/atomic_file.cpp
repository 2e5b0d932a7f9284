#include "embq/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "core/interrupt_cleanup.hpp"
#include "embq/error.hpp"

namespace embq {

namespace fs = std::filesystem;

namespace {

// The file a write to `target` should replace: a symlink's final target, so the link
// stays a link (rename() onto the link itself would replace it with a regular file).
// Followed link by link, so a link to a file not written yet resolves too; a loop stops
// after 40 links, as the kernel does, and the rename then reports it.
fs::path resolve_symlinks(const fs::path& target) {
    fs::path path = target;
    for (int links = 0; links < 40; ++links) {
        std::error_code ec;
        if (!fs::is_symlink(fs::symlink_status(path, ec))) return path;
        const fs::path next = fs::read_symlink(path, ec);
        if (ec) return path;
        path = next.is_absolute() ? next : path.parent_path() / next;
    }
    return path;
}

// fsync() of `path` (a file, or a directory to make a rename in it durable); the errno
// on failure, 0 on success.
int sync_path(const fs::path& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return errno;
    const int err = ::fsync(fd) == 0 ? 0 : errno;
    ::close(fd);
    return err;
}

const char* kind_of(fs::file_type type) {
    switch (type) {
        case fs::file_type::directory: return "a directory";
        case fs::file_type::character: return "a character device";
        case fs::file_type::block: return "a block device";
        case fs::file_type::fifo: return "a FIFO";
        case fs::file_type::socket: return "a socket";
        default: return "not a regular file";
    }
}

}  // namespace

AtomicFile::AtomicFile(fs::path target)
    : target_(std::move(target)), destination_(resolve_symlinks(target_)) {
    temp_ = destination_;
    temp_ += ".tmp-" + std::to_string(::getpid());
    cleanup_ = std::make_unique<InterruptCleanup>(temp_.string(), CleanupKind::File);
}

AtomicFile::~AtomicFile() {
    if (committed_) return;
    if (out_.is_open()) out_.close();
    std::error_code ec;
    fs::remove(temp_, ec);
}

std::ofstream& AtomicFile::stream() {
    EMBQ_ASSERT(!committed_);
    if (opened_) return out_;
    errno = 0;
    out_.open(temp_, std::ios::binary | std::ios::trunc);
    if (!out_.is_open())
        throw runtime_failure(target_.string() + ": cannot create " + temp_.string() +
                              errno_text(errno) + " (is the directory there and writable?)");
    opened_ = true;
    return out_;
}

void AtomicFile::commit() {
    EMBQ_ASSERT(!committed_);
    std::error_code ec;
    if (opened_) {
        errno = 0;
        out_.flush();
        const bool written = static_cast<bool>(out_);
        const int err = errno;
        out_.close();
        if (!written || out_.fail()) {
            fs::remove(temp_, ec);
            throw runtime_failure(target_.string() + ": writing " + temp_.string() + " failed" +
                                  errno_text(err) + " (is the disk full?)");
        }
        // On disk before the rename: after a power loss the output is the old file or
        // the new one, never a renamed file whose blocks were not written yet.
        if (const int sync_err = sync_path(temp_, O_RDONLY)) {
            fs::remove(temp_, ec);
            throw runtime_failure(target_.string() + ": writing " + temp_.string() + " failed" +
                                  errno_text(sync_err));
        }
    }
    fs::rename(temp_, destination_, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(temp_, ignored);
        throw runtime_failure(target_.string() + ": cannot move the finished file into place (" +
                              ec.message() + ")");
    }
    committed_ = true;
    cleanup_.reset();
    // The rename itself is durable once its directory is synced; the file is complete
    // whether or not this succeeds, so a failure here is not an error.
    sync_path(destination_.parent_path().empty() ? fs::path(".") : destination_.parent_path(),
              O_RDONLY | O_DIRECTORY);
}

void write_file_atomically(const fs::path& path, const std::string& content) {
    AtomicFile file(path);
    file.stream() << content;
    file.commit();
}

bool is_same_file(const fs::path& output, const fs::path& input) {
    std::error_code ec;
    return fs::exists(output, ec) && fs::exists(input, ec) && fs::equivalent(output, input, ec);
}

void check_output_path(const fs::path& path, const std::string& option) {
    if (path.empty()) return;
    const std::string named = option + " " + path.string();
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);  // follows symlinks
    if (fs::exists(status) && !fs::is_regular_file(status))
        throw usage_error(named + " is " + kind_of(status.type()) +
                          "; embq writes results to regular files only (it writes a temporary "
                          "file and renames it into place), so name a file and copy it from there");
    const fs::path parent = fs::absolute(resolve_symlinks(path)).parent_path();
    if (!fs::is_directory(parent, ec))
        throw usage_error(named + ": directory " + parent.string() + " does not exist");
    if (::access(parent.c_str(), W_OK) != 0)
        throw usage_error(named + ": directory " + parent.string() + " is not writable");
}

void check_regular_input(const fs::path& path, const std::string& option) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status) || fs::is_regular_file(status)) return;
    throw usage_error(option + " " + path.string() + " is " + kind_of(status.type()) +
                      "; it is read as a whole (maybe more than once), so give a regular file");
}

}  // namespace embq
