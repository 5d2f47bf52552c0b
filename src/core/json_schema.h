#pragma once

#include <string>

#include "core/json.h"
#include "core/status.h"

namespace argus {

/// Validates `value` against a JSON Schema (2020-12) written in the subset Argus uses for its
/// request bodies, the same schema objects that /openapi.json publishes:
///   type (a name or a list of names), properties, required, additionalProperties (bool or
///   schema), items, enum, const, minLength, maxLength, minimum, maximum, minItems, maxItems,
///   format "date-time"; description/title/examples are ignored.
/// Returns InvalidArgument naming the first offending field by its path ("tags[2]", "retry.max"),
/// e.g. "field 'role' must be one of: admin, editor, viewer". Keywords outside the subset are
/// ignored, so keep schemas inside it. Thread-safe (pure function).
Status ValidateJson(const Json& value, const Json& schema);

}  // namespace argus
