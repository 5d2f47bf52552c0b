#pragma once

#include <string>
#include <vector>

#include "cli/http_client.h"
#include "core/json.h"
#include "core/result.h"

namespace argus::cli {

/// POST /v1/inference/<name> with the bytes of `file` ("-": stdin), or `text` (for a text model)
/// when it is not empty, and `params` given as "key=value" (sent as query parameters, typed by
/// the server from the target's schema).
Result<Json> Infer(HttpClient& http, const std::string& name, const std::string& file,
                   const std::vector<std::string>& params, const std::string& text = "");

/// A human summary of an answer: detections and faces as a table, embeddings by their size;
/// anything else as indented JSON.
std::string FormatInference(const Json& answer);

}  // namespace argus::cli
