#include "bot/metrics.hpp"

#include <cstdio>

namespace pm::bot {

void histogram::observe(double s) {
    ++count_;
    sum_ += s;
    for (std::size_t i = 0; i < bounds.size(); ++i)
        if (s <= bounds[i]) ++buckets_[i];
}

void metrics::add(const std::string& name, const std::string& labels, std::uint64_t n) {
    families_[name].values[labels] += static_cast<double>(n);
}

void metrics::set(const std::string& name, const std::string& labels, double value) {
    auto& f = families_[name];
    f.type = "gauge";
    f.values[labels] = value;
}

void metrics::set_counter(const std::string& name, const std::string& labels, double value) {
    families_[name].values[labels] = value;
}

void metrics::observe(const std::string& name, const std::string& labels, double seconds) {
    auto& f = families_[name];
    f.type = "histogram";
    f.histograms[labels].observe(seconds);
}

std::uint64_t metrics::counter(const std::string& name, const std::string& labels) const {
    auto it = families_.find(name);
    if (it == families_.end()) return 0;
    auto v = it->second.values.find(labels);
    return v == it->second.values.end() ? 0 : static_cast<std::uint64_t>(v->second);
}

void metrics::describe(const std::string& name, const std::string& type, const std::string& help) {
    auto& f = families_[name];
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
