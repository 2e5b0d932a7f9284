#include "embq/format.hpp"

#include <cstdio>

namespace embq {

std::string format_percent(double part, double whole) {
    if (!(whole > 0)) return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * part / whole);
    return buf;
}

std::string format_list(const std::vector<std::string>& items, size_t shown) {
    std::string out;
    for (size_t i = 0; i < items.size() && i < shown; ++i) out += (i ? ", " : "") + items[i];
    if (items.size() > shown) out += " and " + std::to_string(items.size() - shown) + " more";
    return out;
}

}  // namespace embq
