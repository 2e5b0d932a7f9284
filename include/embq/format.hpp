// Numbers as embq prints them in tables and logs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace embq {

// A tensor shape as "[256, 64]".
std::string format_shape(const std::vector<int64_t>& shape);

// "1.5 MiB"-style sizes for tables ("512 B" below a KiB).
std::string format_bytes(int64_t bytes);

// `value` with `digits` decimals ("0.9650"); "n/a" when not finite.
std::string format_fixed(double value, int digits);

// `part` as a percentage of `whole` with one decimal ("32.1%"); "n/a" when whole <= 0.
std::string format_percent(double part, double whole);

// The first `shown` items joined by ", ", then " and N more" when there are others.
std::string format_list(const std::vector<std::string>& items, size_t shown = 3);

// Choices for a message: "a", "a or b", "a, b or c".
std::string format_alternatives(const std::vector<std::string>& items);

// Bytes from a file, safe inside a one-line message: anything outside printable ASCII as
// \xNN, cut after `shown` bytes with "...".
std::string format_excerpt(std::string_view bytes, size_t shown = 40);

// Text safe inside XML and HTML content and attribute values (& < > " ' as entities).
std::string xml_escape(const std::string& text);

}  // namespace embq
