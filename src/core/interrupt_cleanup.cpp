#include "core/interrupt_cleanup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include <spdlog/spdlog.h>

#include "embq/runtime.hpp"

namespace embq {

namespace {

enum SlotState : int { kFree = 0, kFilling = 1, kArmed = 2 };

struct Slot {
    std::atomic<int> state{kFree};
    CleanupKind kind = CleanupKind::File;
    char path[PATH_MAX] = {};
};

Slot g_slots[kCleanupSlots];

// getdents64's record; glibc has no public declaration of it.
struct LinuxDirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

bool is_dot_or_dotdot(const char* name) {
    return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

// Removes what is inside the directory `dir_fd` with system calls only (no malloc, no
// locks); `depth` bounds the recursion, deeper entries stay. Removing entries while
// reading can make getdents64 skip some, so a pass that found any starts another; the
// passes are bounded, so an entry that cannot be removed does not loop forever.
void remove_contents(int dir_fd, int depth) {
    alignas(LinuxDirent64) char buffer[4096];
    for (int pass = 0; pass < 4; ++pass) {
        bool found = false;
        lseek(dir_fd, 0, SEEK_SET);
        for (long n; (n = syscall(SYS_getdents64, dir_fd, buffer, sizeof buffer)) > 0;) {
            for (long offset = 0; offset < n;) {
                const auto* entry = reinterpret_cast<const LinuxDirent64*>(buffer + offset);
                offset += entry->d_reclen;
                if (is_dot_or_dotdot(entry->d_name)) continue;
                found = true;
                if (unlinkat(dir_fd, entry->d_name, 0) == 0 || errno != EISDIR || depth <= 0)
                    continue;
                const int child =
                    openat(dir_fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                if (child < 0) continue;
                remove_contents(child, depth - 1);
                close(child);
                unlinkat(dir_fd, entry->d_name, AT_REMOVEDIR);
            }
        }
        if (!found) return;
    }
}

void remove_registered_paths() {
    for (Slot& slot : g_slots) {
        if (slot.state.load(std::memory_order_acquire) != kArmed) continue;
        if (slot.kind == CleanupKind::File) {
            unlink(slot.path);
            continue;
        }
        const int fd = open(slot.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (fd < 0) continue;
        remove_contents(fd, 8);
        close(fd);
        rmdir(slot.path);
    }
}

void on_interrupt(int signal_number) {
    const int saved_errno = errno;
    remove_registered_paths();
    errno = saved_errno;
    // End the process the way the signal would have: the parent sees "killed by SIGINT".
    ::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
}

}  // namespace

InterruptCleanup::InterruptCleanup(const std::string& path, CleanupKind kind) {
    if (path.size() >= PATH_MAX) return;
    for (int i = 0; i < kCleanupSlots; ++i) {
        int expected = kFree;
        if (!g_slots[i].state.compare_exchange_strong(expected, kFilling)) continue;
        g_slots[i].kind = kind;
        std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
        g_slots[i].state.store(kArmed, std::memory_order_release);
        slot_ = i;
        return;
    }
    spdlog::debug("{}: more than {} temporary paths at once; an interrupt may leave it", path,
                  kCleanupSlots);
}

InterruptCleanup::~InterruptCleanup() {
    if (slot_ >= 0) g_slots[slot_].state.store(kFree, std::memory_order_release);
}

void install_interrupt_cleanup() {
    static std::atomic<bool> installed{false};
    if (installed.exchange(true)) return;
    for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
        struct sigaction current {};
        if (sigaction(signal_number, nullptr, &current) != 0 || current.sa_handler == SIG_IGN)
            continue;
        struct sigaction action {};
        action.sa_handler = on_interrupt;
        sigemptyset(&action.sa_mask);
        // Another interrupt while cleaning must not start a second cleanup.
        for (const int blocked : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&action.sa_mask, blocked);
        sigaction(signal_number, &action, nullptr);
    }
}

}  // namespace embq
