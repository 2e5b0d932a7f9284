// Numbers as embq prints them in tables and logs.
#pragma once

#include <string>

namespace embq {

// `part` as a percentage of `whole` with one decimal ("32.1%"); "n/a" when whole <= 0.
std::string format_percent(double part, double whole);

}  // namespace embq
