// The terminal's line syntax and its mention rewriting.
#include "adapters/shell/shell.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string line(reinterpret_cast<const char*>(data), size);
    auto l = pm::adapters::shell::parse_line(line);
    if (l.k == pm::adapters::shell::parsed_line::kind::say || l.k == pm::adapters::shell::parsed_line::kind::dm)
        pm::adapters::shell::to_event(l, "#incident", "fuzz", 1, {});
    return 0;
}
