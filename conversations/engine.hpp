// The interview and command state machine: (world, input) -> events folded into the world,
// plus effects as data. No I/O, no clock: `now` is the input's own timestamp.
#pragma once

#include "conversations/model.hpp"

namespace pm::conv {

class engine {
public:
    explicit engine(settings s) : s_(std::move(s)) {}

    outcome on_message(world& w, const message_in& m) const;
    outcome on_timer(world& w, const timer_in& t, sys_seconds now) const;

    const settings& config() const { return s_; }

private:
    settings s_;
};

} // namespace pm::conv
