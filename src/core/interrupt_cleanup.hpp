// What a SIGINT, SIGTERM or SIGHUP must not leave behind. AtomicFile registers its
// temporary file and ScratchDir its directory while they exist; the handler that
// install_interrupt_cleanup() (embq/runtime.hpp) sets removes whatever is registered,
// then lets the signal end the process as it would have (exit status 128 + signal).
// Internal to libembq.
//
// The handler only makes system calls (unlink, openat, getdents64, unlinkat, rmdir), so
// it is safe whichever code the signal interrupts. SIGKILL cannot be caught: what it
// leaves is described in the README ("Errors and exit codes").
#pragma once

#include <string>

namespace embq {

enum class CleanupKind { File, Directory };

// A path removed on an interrupt for as long as this object lives. Registering is a few
// atomic operations; at most kCleanupSlots paths are registered at once (more are not
// guarded, and a debug log says so).
class InterruptCleanup {
public:
    InterruptCleanup(const std::string& path, CleanupKind kind);
    ~InterruptCleanup();
    InterruptCleanup(const InterruptCleanup&) = delete;
    InterruptCleanup& operator=(const InterruptCleanup&) = delete;

private:
    int slot_ = -1;
};

inline constexpr int kCleanupSlots = 64;

}  // namespace embq
