#include "embq/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>

#include "embq/error.hpp"

namespace embq {

namespace fs = std::filesystem;

AtomicFile::AtomicFile(fs::path target) : target_(std::move(target)) {
    temp_ = target_;
    temp_ += ".tmp-" + std::to_string(::getpid());
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
    }
    fs::rename(temp_, target_, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(temp_, ignored);
        throw runtime_failure(target_.string() + ": cannot rename " + temp_.string() +
                              " into place: " + ec.message());
    }
    committed_ = true;
}

void write_file_atomically(const fs::path& path, const std::string& content) {
    AtomicFile file(path);
    file.stream() << content;
    file.commit();
}

bool is_same_file(const std::filesystem::path& output, const std::filesystem::path& input) {
    std::error_code ec;
    return std::filesystem::exists(output, ec) && std::filesystem::exists(input, ec) &&
           std::filesystem::equivalent(output, input, ec);
}

}  // namespace embq
