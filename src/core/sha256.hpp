// SHA-256 of a file, for the input hashes in eval reports (no crypto library needed for
// a checksum). Internal to libembq.
#pragma once

#include <filesystem>
#include <string>

namespace embq {

// Lower-case hex digest; an Input error when the file cannot be read.
std::string sha256_file(const std::filesystem::path& path);
std::string sha256_hex(const std::string& bytes);

}  // namespace embq
