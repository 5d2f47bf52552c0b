#include "cli/command.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/table.h"

namespace argus::cli {

CommandContext::CommandContext() {
  if (const char* v = std::getenv("ARGUS_URL")) client.url = v;
  if (const char* v = std::getenv("ARGUS_API_KEY")) client.key = v;
  if (const char* v = std::getenv("ARGUS_NAMESPACE")) client.ns = v;
}

void CommandContext::AddClientFlags(CLI::App* cmd) {
  cmd->add_option("--url", client.url, "server URL (env ARGUS_URL)");
  cmd->add_option("--key", client.key, "API key (env ARGUS_API_KEY)");
  cmd->add_option("--namespace", client.ns,
                  "namespace to act in, for global admin keys (env ARGUS_NAMESPACE)");
  cmd->add_flag("--json", json, "print the raw JSON answer");
}

int PrintError(const Status& s) {
  std::fprintf(stderr, "argus: %s\n", std::string(s.message()).c_str());
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

std::string Str(const Json& v) {
  if (v.is_null()) return "-";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

int PrintResult(const Result<Json>& r, bool json, const std::vector<std::string>& columns) {
  if (!r.ok()) return PrintError(r.status());
  if (json) {
    std::cout << r->dump(2) << "\n";
    return 0;
  }
  const Json& items = r->contains("items") ? (*r)["items"] : Json::array({*r});
  Table t(columns);
  for (const auto& item : items) {
    std::vector<std::string> row;
    for (const auto& c : columns) row.push_back(item.contains(c) ? Str(item[c]) : "-");
    t.AddRow(std::move(row));
  }
  std::cout << t.Render();
  if (r->contains("next_cursor") && !(*r)["next_cursor"].is_null()) {
    std::cout << "(more: --cursor " << (*r)["next_cursor"].get<std::string>() << ")\n";
  }
  return 0;
}

std::string ListPath(std::string path, int limit, const std::string& cursor) {
  path += "?limit=" + std::to_string(limit);
  if (!cursor.empty()) path += "&cursor=" + cursor;
  return path;
}

void AddPageFlags(CLI::App* cmd, int* limit, std::string* cursor) {
  cmd->add_option("--limit", *limit, "page size")->check(CLI::Range(1, 1000));
  cmd->add_option("--cursor", *cursor, "next page");
}

}  // namespace argus::cli
