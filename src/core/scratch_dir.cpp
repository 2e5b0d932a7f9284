#include "core/scratch_dir.hpp"

#include <stdlib.h>

#include <cerrno>

#include <vector>

#include "embq/error.hpp"

namespace embq {

ScratchDir::ScratchDir(const std::string& prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!mkdtemp(buffer.data()))
        throw runtime_failure("cannot create a temporary directory " + pattern + ": " +
                              errno_text(errno));
    path_ = buffer.data();
    cleanup_ = std::make_unique<InterruptCleanup>(path_.string(), CleanupKind::Directory);
}

ScratchDir::~ScratchDir() {  // cleanup_ goes after remove_all: an interrupt now still cleans
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

}  // namespace embq
