// Time expressions in several zones and windows.
#include "conversations/times.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pm::conv::times;
    const std::string line(reinterpret_cast<const char*>(data), size);
    const sys_seconds now{std::chrono::seconds{1795186800}}; // 2026-11-20 15:00 UTC
    for (const char* zone : {"UTC", "Europe/Berlin", "America/Los_Angeles", "Australia/Lord_Howe"}) {
        context ctx{zone, now - std::chrono::hours{24}, now, now};
        auto r = read_step(line, ctx);
        if (r.at) format(*r.at, zone, "%F %T");
        read_time(line, ctx);
    }
    valid_zone(line);
    return 0;
}
