#include "bot/metrics.hpp"

#include <cstdio>

namespace pm::bot {

void histogram::observe(double s) {
    ++count_;
    sum_ += s;
    for (std::size_t i = 0; i < bounds.size(); ++i)
        if (s <= bounds[i]) ++buckets_[i];
}

template <class V> V& metrics::slot(by_name<V>& m, std::string_view key) {
    auto it = m.find(key);
    if (it == m.end()) it = m.emplace(std::string(key), V{}).first;
    return it->second;
}

metrics::family& metrics::at(std::string_view name) {
    return slot(families_, name);
}

void metrics::add(std::string_view name, std::string_view labels, std::uint64_t n) {
    slot(at(name).values, labels) += static_cast<double>(n);
}

void metrics::set(std::string_view name, std::string_view labels, double value) {
    auto& f = at(name);
    f.type = "gauge";
    slot(f.values, labels) = value;
}

void metrics::set_counter(std::string_view name, std::string_view labels, double value) {
    slot(at(name).values, labels) = value;
}

void metrics::observe(std::string_view name, std::string_view labels, double seconds) {
    auto& f = at(name);
    f.type = "histogram";
    slot(f.histograms, labels).observe(seconds);
}

std::uint64_t metrics::counter(std::string_view name, std::string_view labels) const {
    auto it = families_.find(name);
    if (it == families_.end()) return 0;
    auto v = it->second.values.find(labels);
    return v == it->second.values.end() ? 0 : static_cast<std::uint64_t>(v->second);
}

void metrics::describe(std::string_view name, std::string_view type, std::string_view help) {
    auto& f = at(name);
    f.type = type;
    f.help = help;
}

namespace {
std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}
std::string with(const std::string& labels, const std::string& extra) {
    if (labels.empty()) return "{" + extra + "}";
    return "{" + labels + "," + extra + "}";
}
} // namespace

std::string metrics::render() const {
    std::string out;
    for (auto& [name, f] : families_) {
        if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
        out += "# TYPE " + name + " " + f.type + "\n";
        for (auto& [labels, v] : f.values)
            out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + num(v) + "\n";
        for (auto& [labels, h] : f.histograms) {
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < histogram::bounds.size(); ++i) {
                cumulative = h.bucket(i);
                out += name + "_bucket" + with(labels, "le=\"" + num(histogram::bounds[i]) + "\"") + " " +
                       std::to_string(cumulative) + "\n";
            }
            out += name + "_bucket" + with(labels, "le=\"+Inf\"") + " " + std::to_string(h.count()) + "\n";
            out += name + "_sum" + (labels.empty() ? "" : "{" + labels + "}") + " " + num(h.sum()) + "\n";
            out += name + "_count" + (labels.empty() ? "" : "{" + labels + "}") + " " +
                   std::to_string(h.count()) + "\n";
        }
    }
    return out;
}

} // namespace pm::bot
