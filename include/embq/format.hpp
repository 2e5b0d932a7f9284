// Numbers as embq prints them in tables and logs.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace embq {

// `part` as a percentage of `whole` with one decimal ("32.1%"); "n/a" when whole <= 0.
std::string format_percent(double part, double whole);

// The first `shown` items joined by ", ", then " and N more" when there are others.
std::string format_list(const std::vector<std::string>& items, size_t shown = 3);

}  // namespace embq
