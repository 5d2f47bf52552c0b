#pragma once

#include <memory>
#include <string>

#include "core/json.h"
#include "core/result.h"

namespace argus {

/// A JSON Schema (2020-12) in the subset Argus uses for request bodies, compiled once so that
/// validating a request costs a walk over the document and no lookups in the schema:
///   type (a name or a list of names), properties, required, additionalProperties (bool or
///   schema), items, enum, const, minLength, maxLength, minimum, maximum, minItems, maxItems,
///   format "date-time", and the boolean schemas true and false. Lengths count characters
///   (Unicode code points), not bytes. Annotations (description, title, examples, default,
///   $comment) are ignored. json_schema_suite_test.cc runs the official test suite's groups for
///   these keywords (docs/adr/0005-json-schema-subset.md).
/// Immutable after Compile(): thread-safe.
class JsonSchema {
 public:
  /// InvalidArgument naming the keyword when `schema` uses something outside the subset, so a
  /// schema can never silently validate less than it says.
  static Result<JsonSchema> Compile(const Json& schema);

  /// InvalidArgument naming the first offending field by its path ("tags[2]", "retry.max"),
  /// e.g. "field 'role' must be one of: admin, editor, viewer".
  Status Validate(const Json& value) const;

  const Json& source() const { return *source_; }

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
  std::shared_ptr<const Json> source_;
};

/// Compiles and validates in one go (tests, one-off checks).
Status ValidateJson(const Json& value, const Json& schema);

}  // namespace argus
