// A private working directory under the system's temp directory, removed with everything
// in it when the object goes away (an exception included) and on SIGINT/SIGTERM
// (core/interrupt_cleanup.hpp). Internal to libembq.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/interrupt_cleanup.hpp"

namespace embq {

class ScratchDir {
public:
    // "<tmp>/<prefix>-XXXXXX", unique even for two runs in one process (mkdtemp). Runtime
    // error when it cannot be created.
    explicit ScratchDir(const std::string& prefix);
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    std::unique_ptr<InterruptCleanup> cleanup_;
};

}  // namespace embq
