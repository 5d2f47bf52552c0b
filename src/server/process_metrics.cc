#include "server/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/build_info.h"

namespace argus::server {

namespace {

void Gauge(std::string& out, const char* name, const char* help, double value,
           const char* type = "gauge") {
  out += "# HELP ";
  out += name;
  out += " ";
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += " ";
  out += type;
  out += "\n";
  AppendSample(out, name, {}, {}, value);
}

int CountOpenFds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
    --n;  // the directory stream itself
  }
  return n;
}

}  // namespace

void AddProcessMetrics(MetricsRegistry& registry) {
  const auto& info = GetBuildInfo();
  registry
      .AddGauge("argus_build_info", "Build of the running binary (always 1).",
                {"version", "commit", "compiler"})
      .WithLabels({std::string(info.version), std::string(info.commit), std::string(info.compiler)})
      .Set(1);
  long ticks = sysconf(_SC_CLK_TCK);
  long page = sysconf(_SC_PAGESIZE);
  double boot_time = 0;
  {
    std::ifstream stat("/proc/stat");
    std::string line;
    while (std::getline(stat, line)) {
      if (line.rfind("btime ", 0) == 0) boot_time = std::stod(line.substr(6));
    }
  }
  registry.AddCollector([ticks, page, boot_time](std::string& out) {
    std::ifstream f("/proc/self/stat");
    std::string content((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces) start after the last ')'.
    size_t close = content.rfind(')');
    if (close == std::string::npos) return;
    std::istringstream rest(content.substr(close + 2));
    std::string field;
    std::vector<std::string> fields;
    while (rest >> field) fields.push_back(field);
    // fields[0] is field 3 (state); utime=14, stime=15, starttime=22, vsize=23, rss=24.
    if (fields.size() < 22) return;
    double cpu = (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(ticks);
    double start = boot_time + std::stod(fields[19]) / static_cast<double>(ticks);
    Gauge(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", cpu,
          "counter");
    Gauge(out, "process_start_time_seconds",
          "Start time of the process since unix epoch in seconds.", start);
    Gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
          std::stod(fields[20]));
    Gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
          std::stod(fields[21]) * static_cast<double>(page));
    Gauge(out, "process_open_fds", "Number of open file descriptors.", CountOpenFds());
    rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
      Gauge(out, "process_max_fds", "Maximum number of open file descriptors.",
            static_cast<double>(lim.rlim_cur));
    }
  });
}

}  // namespace argus::server
