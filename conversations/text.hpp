// Small text helpers shared by the core: UTF-8 hygiene, splitting, slugs, Markdown escaping.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pm::conv::text {

bool iequals(std::string_view a, std::string_view b);
std::string lower(std::string_view s); // ASCII only
std::string_view trim(std::string_view s);
std::vector<std::string> split_ws(std::string_view s);
std::vector<std::string> split_lines(std::string_view s);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string strip_quotes(std::string_view s);

bool valid_utf8(std::string_view s);
// Replaces every invalid UTF-8 sequence with U+FFFD and drops NUL and other C0 controls except
// tab and newline; the result is always valid UTF-8.
std::string sanitize_utf8(std::string_view s);
// At most `max_bytes`, cut on a code point boundary, with "…" when cut.
std::string clip(std::string_view s, std::size_t max_bytes);

// Title -> lowercase ASCII letters and digits joined by `-`, at most 40 characters.
std::string slug(std::string_view title);

// Escapes text for CommonMark so it renders literally and cannot become a link, HTML or layout.
std::string markdown_escape(std::string_view s);

} // namespace pm::conv::text
