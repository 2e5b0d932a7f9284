#include <dlfcn.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include "embq/runtime.hpp"

namespace embq {

namespace {

constexpr int kMmapThreshold = 32 << 20;  // glibc's own ceiling for its dynamic threshold
constexpr int kTrimThreshold = 64 << 20;

std::string& settings_in_effect() {
    static std::string settings = "glibc defaults";
    return settings;
}

bool user_tuned_glibc_malloc() {
    for (const char* name : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"})
        if (const char* value = std::getenv(name); value && *value) return true;
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    return tunables && std::strstr(tunables, "glibc.malloc.");
}

// Whether malloc is glibc's, not one preloaded in its place (jemalloc, tcmalloc), which
// mallopt would not configure.
bool malloc_is_glibcs() {
    void* libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    if (!libc) return false;
    const bool same = dlsym(RTLD_DEFAULT, "malloc") == dlsym(libc, "malloc");
    dlclose(libc);
    return same;
}

}  // namespace

std::string configure_allocator() {
    std::string& settings = settings_in_effect();
    if (!malloc_is_glibcs()) {
        settings = "not glibc's malloc (left as it is)";
    } else if (user_tuned_glibc_malloc()) {
        settings = "glibc malloc as MALLOC_*_/GLIBC_TUNABLES set it";
    } else if (mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 &&
               mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1) {
        settings = "glibc malloc keeping freed memory (mmap threshold 32 MiB, trim 64 MiB)";
    }
    return settings;
}

std::string allocator_settings() { return settings_in_effect(); }

}  // namespace embq
