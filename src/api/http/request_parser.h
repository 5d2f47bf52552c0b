// Internal to http_server.cc (the only file that may include it: it brings Beast in).
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/http/http_types.h"

namespace argus::api::internal {

/// Fills a reused HttpRequest straight from Beast's parser callbacks: no header map, no body
/// object, no per-request allocation once the connection's buffers have grown. Not eager until
/// told so: put() returns once the head is complete, so the session decides where the body goes
/// (StreamBody may run on the blocking pool) before any body byte is parsed.
class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  /// The body goes, in this order of preference: to `staging` when set (and a consumer exists:
  /// the session hands it to the consumer on the pool), to req->body_consumer on this thread, or
  /// into req->body, at most `max_body` bytes.
  RequestParser(HttpRequest* req, uint64_t max_body) : req_(req), max_body_(max_body) {
    body_limit(boost::none);  // enforced here: a streamed body has no transport limit
  }

  void set_staging(std::string* staging) { staging_ = staging; }
  /// The consumer refused more of the body (OnData returned false).
  bool consumer_stopped() const { return consumer_stopped_; }
  /// The buffered body went over max_body.
  bool too_large() const { return too_large_; }

 private:
  void on_request_impl(boost::beast::http::verb, string_view method, string_view target, int,
                       error_code&) override {
    req_->method.assign(method.data(), method.size());
    req_->target.assign(target.data(), target.size());
  }
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                     error_code&) override {
    auto& [n, v] = req_->NewHeader();
    n.resize(name.size());
    for (size_t i = 0; i < name.size(); ++i) {
      char c = name[i];
      n[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
    v.assign(value.data(), value.size());
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code& ec) override {
    if (req_->body_consumer) return;
    if (length && *length > max_body_) {
      too_large_ = true;
      ec = boost::beast::http::error::body_limit;
      return;
    }
    if (length) req_->body.reserve(static_cast<size_t>(*length));
  }
  std::size_t on_body_impl(string_view body, error_code& ec) override { return Take(body, ec); }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override {
    return Take(body, ec);
  }
  void on_finish_impl(error_code&) override {}

  std::size_t Take(string_view body, error_code& ec) {
    if (req_->body_consumer) {
      if (staging_ != nullptr) {
        staging_->append(body.data(), body.size());
      } else if (!req_->body_consumer->OnData(std::string_view(body.data(), body.size()))) {
        consumer_stopped_ = true;
        ec = boost::beast::http::error::body_limit;  // any error: it stops the parser here
      }
      return body.size();
    }
    if (req_->body.size() + body.size() > max_body_) {
      too_large_ = true;
      ec = boost::beast::http::error::body_limit;
      return body.size();
    }
    req_->body.append(body.data(), body.size());
    return body.size();
  }

  HttpRequest* req_;
  uint64_t max_body_;
  std::string* staging_ = nullptr;
  bool consumer_stopped_ = false;
  bool too_large_ = false;
};

}  // namespace argus::api::internal
