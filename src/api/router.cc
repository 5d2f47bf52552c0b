#include "api/router.h"

#include <cstdio>
#include <cstdlib>

namespace argus::api {

namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 1;  // skip leading '/'
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

void Router::Add(Route route) {
  if (route.pattern.empty() || route.pattern[0] != '/') std::abort();
  route.index = routes_.size();
  if (!route.request_schema.is_null()) {
    auto compiled = JsonSchema::Compile(route.request_schema);
    if (!compiled.ok()) {  // a route's schema outside the supported subset: a bug
      std::fprintf(stderr, "route %s %s: %s\n", route.method.c_str(), route.pattern.c_str(),
                   compiled.status().ToString().c_str());
      std::abort();
    }
    route.compiled_request = std::make_shared<const JsonSchema>(std::move(compiled).value());
  }
  routes_.push_back(std::make_unique<Route>(std::move(route)));
  const Route* r = routes_.back().get();
  Node* node = &root_;
  for (std::string_view seg : Split(r->pattern)) {
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      if (seg[seg.size() - 2] == '+') {
        if (!node->rest) node->rest = std::make_unique<Node>();
        node->rest_name = std::string(seg.substr(1, seg.size() - 3));
        node = node->rest.get();
        break;
      }
      if (!node->param) node->param = std::make_unique<Node>();
      node->param_name = std::string(seg.substr(1, seg.size() - 2));
      node = node->param.get();
      continue;
    }
    Node* next = nullptr;
    for (auto& c : node->children) {
      if (c->literal == seg) next = c.get();
    }
    if (next == nullptr) {
      node->children.push_back(std::make_unique<Node>());
      next = node->children.back().get();
      next->literal = std::string(seg);
    }
    node = next;
  }
  for (const Route* existing : node->routes) {
    if (existing->method == r->method) std::abort();  // duplicate route: a programmer error
  }
  node->routes.push_back(r);
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match m;
  if (path.empty() || path[0] != '/') return m;
  const Node* node = &root_;
  size_t i = 1;
  while (node != nullptr) {
    if (i > path.size()) break;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    const Node* next = nullptr;
    for (const auto& c : node->children) {
      if (c->literal == seg) {
        next = c.get();
        break;
      }
    }
    if (next == nullptr && node->param && !seg.empty()) {
      std::string decoded;
      if (!PercentDecode(seg, &decoded)) return m;
      m.params.emplace_back(node->param_name, std::move(decoded));
      next = node->param.get();
    }
    if (next == nullptr && node->rest && i < path.size()) {
      std::string decoded;
      if (!PercentDecode(path.substr(i), &decoded)) return m;
      m.params.emplace_back(node->rest_name, std::move(decoded));
      node = node->rest.get();
      i = path.size() + 1;
      break;
    }
    node = next;
    i = j + 1;
  }
  if (node == nullptr || node->routes.empty() || i <= path.size()) return m;
  m.path_found = true;
  for (const Route* r : node->routes) {
    if (r->method == method || (method == "HEAD" && r->method == "GET")) {
      m.route = r;
      return m;
    }
  }
  for (const Route* r : node->routes) {
    if (!m.allowed.empty()) m.allowed += ", ";
    m.allowed += r->method;
  }
  return m;
}

}  // namespace argus::api
