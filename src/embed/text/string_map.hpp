// A string -> id hash map for vocabularies, looked up by string_view without building a
// std::string (C++17's unordered_map cannot), with every key in one buffer.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace embq::text {

class StringIdMap {
public:
    static constexpr int64_t kMissing = -1;

    void reserve(size_t n) {
        size_t cap = 16;
        while (cap < n * 2) cap <<= 1;
        if (cap > slots_.size()) rehash(cap);
    }

    // Inserts or overwrites (the last id for a key wins, as in a HashMap insert).
    void insert(std::string_view key, int64_t id) {
        if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 16 : slots_.size() * 2);
        const uint64_t h = hash(key);
        size_t i = h & (slots_.size() - 1);
        while (true) {
            Slot& s = slots_[i];
            if (s.id == kMissing) {
                s.offset = static_cast<uint32_t>(arena_.size());
                s.length = static_cast<uint32_t>(key.size());
                s.hash = h;
                s.id = id;
                arena_.append(key.data(), key.size());
                ++size_;
                return;
            }
            if (s.hash == h && key_of(s) == key) {
                s.id = id;
                return;
            }
            i = (i + 1) & (slots_.size() - 1);
        }
    }

    int64_t find(std::string_view key) const {
        if (slots_.empty()) return kMissing;
        const uint64_t h = hash(key);
        size_t i = h & (slots_.size() - 1);
        while (true) {
            const Slot& s = slots_[i];
            if (s.id == kMissing) return kMissing;
            if (s.hash == h && key_of(s) == key) return s.id;
            i = (i + 1) & (slots_.size() - 1);
        }
    }

    bool contains(std::string_view key) const { return find(key) != kMissing; }
    size_t size() const { return size_; }

    template <typename F>
    void for_each(F&& f) const {
        for (const Slot& s : slots_)
            if (s.id != kMissing) f(key_of(s), s.id);
    }

    static uint64_t hash(std::string_view key) {
        // 8 bytes at a time, multiply-xorshift mixing; good enough for vocabulary strings.
        uint64_t h = 0x9E3779B97F4A7C15ull ^ (key.size() * 0xC2B2AE3D27D4EB4Full);
        const char* p = key.data();
        size_t n = key.size();
        while (n >= 8) {
            uint64_t v;
            std::memcpy(&v, p, 8);
            h = (h ^ v) * 0xFF51AFD7ED558CCDull;
            h ^= h >> 32;
            p += 8;
            n -= 8;
        }
        uint64_t v = 0;
        std::memcpy(&v, p, n);
        h = (h ^ v) * 0xC4CEB9FE1A85EC53ull;
        h ^= h >> 29;
        h *= 0x9E3779B97F4A7C15ull;
        return h ^ (h >> 32);
    }

private:
    struct Slot {
        uint32_t offset = 0;
        uint32_t length = 0;
        uint64_t hash = 0;
        int64_t id = kMissing;
    };

    std::string_view key_of(const Slot& s) const {
        return std::string_view(arena_.data() + s.offset, s.length);
    }

    void rehash(size_t cap) {
        std::vector<Slot> old;
        old.swap(slots_);
        slots_.assign(cap, Slot{});
        for (const Slot& s : old) {
            if (s.id == kMissing) continue;
            size_t i = s.hash & (cap - 1);
            while (slots_[i].id != kMissing) i = (i + 1) & (cap - 1);
            slots_[i] = s;
        }
    }

    std::string arena_;
    std::vector<Slot> slots_;
    size_t size_ = 0;
};

}  // namespace embq::text
