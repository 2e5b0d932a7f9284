#include "embq/format.hpp"

#include <cstdio>

namespace embq {

std::string format_percent(double part, double whole) {
    if (!(whole > 0)) return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * part / whole);
    return buf;
}

}  // namespace embq
