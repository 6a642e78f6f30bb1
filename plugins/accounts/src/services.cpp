#include "services.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace accounts {

sdk::Statement Db::sql(std::string_view text) const {
  ph_stmt* stmt = nullptr;
  sdk::detail::ErrorBuffer eb;
  int rc = api_->stmt_prepare(host_, nullptr, text.data(), text.size(), &stmt, &eb.err);
  if (rc != PH_OK) throw sdk::Error(rc, std::string("SQL prepare failed: ") + eb.text);
  return sdk::Statement(api_, stmt);
}

void Services::log(ph_log_level level, std::string_view message, const sdk::Request* rq) const {
  api_->log(host_, level, rq ? rq->raw() : nullptr, message.data(), message.size());
}

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso8601(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<int64_t> parse_iso8601(std::string_view text) {
  std::string t(text);
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  int consumed = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) != 3 || consumed != 10) {
    return std::nullopt;
  }
  size_t at = 10;
  int64_t offset = 0;
  if (at < t.size()) {
    if ((t[at] != 'T' && t[at] != ' ') ||
        std::sscanf(t.c_str() + at + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &consumed) != 3 ||
        consumed != 8) {
      return std::nullopt;
    }
    at += 9;
    if (at < t.size() && t[at] == '.') {
      ++at;
      while (at < t.size() && std::isdigit(static_cast<unsigned char>(t[at]))) ++at;
    }
    std::string zone = t.substr(at);
    if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
      int zh = 0, zm = 0;
      if (std::sscanf(zone.c_str() + 1, "%2d:%2d", &zh, &zm) != 2) return std::nullopt;
      offset = (zone[0] == '+' ? 1 : -1) * (zh * 3600 + zm * 60);
    } else if (!zone.empty() && zone != "Z") {
      return std::nullopt;
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

}  // namespace accounts
