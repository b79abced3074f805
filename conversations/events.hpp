// Domain events: the facts a postmortem's state is folded from. Stored as JSON objects in the
// event log; `fold` is the only place that changes a world, so replay equals live.
#pragma once

#include <boost/json/object.hpp>

#include "conversations/model.hpp"

namespace pm::conv {

// Applies one event. Unknown or malformed events are ignored (and reported false) so that a
// newer log never crashes an older reader.
bool fold(world& w, const boost::json::object& ev);

namespace ev {
boost::json::object make(const char* type, const std::string& pm);
} // namespace ev

} // namespace pm::conv
