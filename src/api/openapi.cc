#include "api/handlers/handlers.h"
#include "core/build_info.h"

namespace argus::api {

namespace {

Json ErrorSchema() {
  return {{"type", "object"},
          {"required", {"error"}},
          {"properties",
           {{"error",
             {{"type", "object"},
              {"required", {"code", "message", "request_id"}},
              {"properties",
               {{"code", {{"type", "string"}, {"examples", {"invalid_argument", "not_found"}}}},
                {"message", {{"type", "string"}}},
                {"request_id", {{"type", "string"}}}}}}}}}};
}

Json Operation(const Route& r, std::string* openapi_path) {
  Json op = {{"operationId", r.operation_id}, {"summary", r.summary}, {"tags", {r.tag}}};
  Json params = Json::array();
  std::string path;
  size_t i = 0;
  while (i < r.pattern.size()) {
    size_t open = r.pattern.find('{', i);
    if (open == std::string::npos) {
      path += r.pattern.substr(i);
      break;
    }
    size_t close = r.pattern.find('}', open);
    std::string name = r.pattern.substr(open + 1, close - open - 1);
    bool rest = !name.empty() && name.back() == '+';
    if (rest) name.pop_back();
    path += r.pattern.substr(i, open - i) + "{" + name + "}";
    Json p = {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
    if (rest) p["description"] = "may contain '/'";
    params.push_back(p);
    i = close + 1;
  }
  *openapi_path = path;
  for (const auto& q : r.query) {
    params.push_back({{"name", q.name},
                      {"in", "query"},
                      {"required", false},
                      {"description", q.description},
                      {"schema", q.schema}});
  }
  bool namespaced = r.access == Access::kNamespaceViewer || r.access == Access::kNamespaceEditor ||
                    r.access == Access::kNamespaceAdmin || r.access == Access::kAnyKey;
  if (namespaced) params.push_back({{"$ref", "#/components/parameters/XNamespace"}});
  if (!params.empty()) op["parameters"] = params;
  if (r.access == Access::kPublic) {
    op["security"] = Json::array();
  } else {
    op["security"] = {{{"bearer", Json::array()}}};
  }
  if (!r.request_schema.is_null()) {
    op["requestBody"] = {{"required", true},
                         {"content", {{"application/json", {{"schema", r.request_schema}}}}}};
  }
  Json ok = {{"description", r.summary}};
  if (!r.response_schema.is_null()) {
    ok["content"] = {{"application/json", {{"schema", r.response_schema}}}};
  } else if (r.success_status != 204 && !r.response_content_type.empty()) {
    std::string ct = r.response_content_type.substr(0, r.response_content_type.find(';'));
    ok["content"] = {{ct, {{"schema", {{"type", "string"}}}}}};
  }
  Json responses = {{std::to_string(r.success_status), ok}};
  responses["default"] = {{"$ref", "#/components/responses/Error"}};
  op["responses"] = responses;
  return op;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Json BuildOpenApi(const Router& router) {
  Json paths = Json::object();
  for (const auto& r : router.routes()) {
    std::string path;
    Json op = Operation(*r, &path);
    paths[path][Lower(r->method)] = std::move(op);
  }
  return {
      {"openapi", "3.1.0"},
      {"info",
       {{"title", "Argus API"},
        {"version", std::string(GetBuildInfo().version)},
        {"description",
         "Argus turns images, video, audio and documents into searchable data. Authenticate "
         "with 'Authorization: Bearer <key>'; global admin keys choose a namespace with "
         "'X-Namespace'. Errors are {\"error\": {\"code\", \"message\", \"request_id\"}}."}}},
      {"paths", paths},
      {"components",
       {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
        {"schemas", {{"Error", ErrorSchema()}}},
        {"parameters",
         {{"XNamespace",
           {{"name", "X-Namespace"},
            {"in", "header"},
            {"required", false},
            {"description", "namespace to act in (global admin keys only)"},
            {"schema", {{"type", "string"}}}}}}},
        {"responses",
         {{"Error",
           {{"description", "an error; the code says what to do next"},
            {"content",
             {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}}}}}};
}

}  // namespace argus::api
