// The TOML configuration file, including the nudge rules it may name.
#include "bot/config.hpp"

#include <cstdint>
#include <fstream>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = "/tmp/pm-fuzz-config-" + std::to_string(getpid()) + ".toml";
    {
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    std::vector<std::string> errors;
    pm::bot::load_config(std::filesystem::path(path), [](const char*) { return std::optional<std::string>(); },
                         errors);
    return 0;
}
