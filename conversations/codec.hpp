// JSON codec for the core's effects, so an outbox row holds exactly what the core asked for.
#pragma once

#include <boost/json/value.hpp>

#include <optional>

#include "conversations/model.hpp"

namespace pm::conv {

boost::json::value to_json(const rich::message& m);
std::optional<rich::message> message_from_json(const boost::json::value& v);

boost::json::value to_json(const send& s);
std::optional<send> send_from_json(const boost::json::value& v);

} // namespace pm::conv
