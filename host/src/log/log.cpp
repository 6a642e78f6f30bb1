#include "log/log.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <cctype>
#include <chrono>
#include <ctime>

#include "common/time_format.hpp"

namespace plughost {
namespace {

std::string timestamp() {
  using namespace std::chrono;
  return iso8601_utc(duration<double>(system_clock::now().time_since_epoch()).count());
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    size_t k = 0;
    while (k < needle.size() &&
           std::tolower(static_cast<unsigned char>(haystack[i + k])) == needle[k]) {
      ++k;
    }
    if (k == needle.size()) return true;
  }
  return false;
}

constexpr std::string_view kRedacted = "[REDACTED]";

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info") return LogLevel::kInfo;
  if (s == "warn" || s == "warning") return LogLevel::kWarn;
  if (s == "error") return LogLevel::kError;
  return std::nullopt;
}

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

bool is_secret_field(std::string_view key) {
  static constexpr std::array<std::string_view, 8> kSecretWords = {
      "password", "passwd", "secret", "token", "api_key", "apikey", "authorization", "cookie"};
  for (auto word : kSecretWords) {
    if (contains_ci(key, word)) return true;
  }
  return false;
}

Logger::Logger(LogLevel level, LogFormat format, std::FILE* out)
    : level_(level), format_(format), out_(out) {}

void Logger::write(LogLevel level, std::string_view logger, std::string_view msg,
                   std::initializer_list<LogField> fields) {
  if (enabled(level)) emit(level, logger, msg, fields);
}

void Logger::emit(LogLevel level, std::string_view logger, std::string_view msg,
                  std::initializer_list<LogField> fields) {
  std::string line;
  if (format_ == LogFormat::kJson) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto str = [&w](std::string_view s) {
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    w.StartObject();
    w.Key("ts");
    str(timestamp());
    w.Key("level");
    w.String(log_level_name(level));
    w.Key("logger");
    str(logger);
    w.Key("msg");
    str(msg);
    for (const LogField& f : fields) {
      str(f.key);
      if (is_secret_field(f.key)) {
        str(kRedacted);
      } else if (f.type == LogField::Type::kString) {
        str(f.str);
      } else if (f.type == LogField::Type::kInt) {
        w.Int64(f.i);
      } else {
        w.Double(f.d);
      }
    }
    w.EndObject();
    line.assign(buf.GetString(), buf.GetSize());
  } else {
    line = timestamp();
    line += ' ';
    line += log_level_name(level);
    line += ' ';
    line.append(logger);
    line += ": ";
    line.append(msg);
    for (const LogField& f : fields) {
      line += ' ';
      line.append(f.key);
      line += '=';
      if (is_secret_field(f.key)) {
        line.append(kRedacted);
      } else if (f.type == LogField::Type::kString) {
        line.append(f.str);
      } else if (f.type == LogField::Type::kInt) {
        line += std::to_string(f.i);
      } else {
        char num[32];
        std::snprintf(num, sizeof(num), "%.6f", f.d);
        line += num;
      }
    }
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace plughost
