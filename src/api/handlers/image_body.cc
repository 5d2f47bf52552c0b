#include "api/handlers/image_body.h"

#include <cctype>
#include <charconv>

#include "api/http/multipart.h"

namespace argus::api {

bool ImageBody::OnData(std::string_view bytes) {
  if (static_cast<int64_t>(bytes_.size() + bytes.size()) > limit_) {
    Fail(PayloadTooLargeError("images sent with a request are at most " + std::to_string(limit_) +
                              " bytes (inference.max_body_bytes)"));
    return false;
  }
  bytes_.append(bytes);
  return true;
}

std::function<std::shared_ptr<BodyConsumer>(RequestContext&)> ImageBodyStream(int64_t limit) {
  return [limit](RequestContext& ctx) -> std::shared_ptr<BodyConsumer> {
    auto body = std::make_shared<ImageBody>(limit);
    std::string_view length = ctx.http.Header("content-length");
    int64_t declared = 0;
    if (!length.empty() &&
        std::from_chars(length.data(), length.data() + length.size(), declared).ec == std::errc() &&
        declared > limit) {
      body->Fail(PayloadTooLargeError("images sent with a request are at most " +
                                      std::to_string(limit) + " bytes (inference.max_body_bytes)"));
    }
    return body;
  };
}

Status ReadImageForm(std::string_view content_type, const std::string& body,
                     std::string_view json_part, std::string* media, Json* json) {
  ARGUS_ASSIGN_OR_RETURN(std::string boundary, MultipartParser::BoundaryOf(content_type));
  std::string json_text;
  bool in_file = false, in_json = false, have_file = false;
  MultipartParser parser(boundary, {.on_part_begin =
                                        [&](const MultipartPart& part) {
                                          in_file = !have_file &&
                                                    (part.name == "file" || part.has_filename);
                                          in_json = part.name == json_part;
                                          return true;
                                        },
                                    .on_part_data =
                                        [&](std::string_view data) {
                                          if (in_file) media->append(data);
                                          if (in_json) json_text.append(data);
                                          return true;
                                        },
                                    .on_part_end =
                                        [&] {
                                          have_file = have_file || in_file;
                                          in_file = in_json = false;
                                          return true;
                                        }});
  ARGUS_RETURN_IF_ERROR(parser.Feed(body));
  ARGUS_RETURN_IF_ERROR(parser.Finish());
  if (!have_file) return InvalidArgumentError("the form has no \"file\" part with the image");
  if (!json_text.empty()) {
    auto parsed = ParseJson(json_text);
    if (!parsed.ok() || !parsed->is_object()) {
      return InvalidArgumentError("the \"" + std::string(json_part) +
                                  "\" part must be a JSON object");
    }
    *json = std::move(parsed).value();
  }
  return OkStatus();
}

}  // namespace argus::api
