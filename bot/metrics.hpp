// Prometheus text-format metrics: counters and histograms keyed by name and labels.
// Single-threaded like the service; rendering sorts by name so the output is stable.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace pm::bot {

class histogram {
public:
    // Upper bounds in seconds: 100 µs … 10 s.
    static constexpr std::array<double, 12> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                   0.01,   0.025,   0.05,   0.1,   1.0,    10.0};
    void observe(double seconds);
    std::uint64_t count() const { return count_; }
    double sum() const { return sum_; }
    std::uint64_t bucket(std::size_t i) const { return buckets_[i]; }

private:
    std::array<std::uint64_t, bounds.size()> buckets_{};
    std::uint64_t count_ = 0;
    double sum_ = 0;
};

class metrics {
public:
    // `labels` is the inside of {…}, e.g. `adapter="slack"`; empty for none. Names and labels
    // are looked up without copying: a counter bumped per event allocates nothing.
    void add(std::string_view name, std::string_view labels = "", std::uint64_t n = 1);
    void set(std::string_view name, std::string_view labels, double value);
    // A counter kept elsewhere (an adapter's own), copied in when scraped.
    void set_counter(std::string_view name, std::string_view labels, double value);
    void observe(std::string_view name, std::string_view labels, double seconds);
    std::uint64_t counter(std::string_view name, std::string_view labels = "") const;
    // HELP texts are registered once per name.
    void describe(std::string_view name, std::string_view type, std::string_view help);
    std::string render() const;

private:
    template <class V> using by_name = std::map<std::string, V, std::less<>>;
    struct family {
        std::string type = "counter";
        std::string help;
        by_name<double> values;
        by_name<histogram> histograms;
    };
    by_name<family> families_;
    family& at(std::string_view name);
    template <class V> static V& slot(by_name<V>& m, std::string_view key);
};

} // namespace pm::bot
