// log.hpp — structured log lines: JSON (one object per line) or human text.
// Thread-safe; one write(2)-sized fwrite per line so lines from threads never interleave.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace plughost {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kJson, kText };

std::optional<LogLevel> parse_log_level(std::string_view s);
const char* log_level_name(LogLevel level);

// One extra field of a log line. Values are borrowed for the duration of the write() call.
struct LogField {
  enum class Type { kString, kInt, kDouble };
  LogField(std::string_view k, std::string_view v) : key(k), type(Type::kString), str(v) {}
  LogField(std::string_view k, const char* v) : key(k), type(Type::kString), str(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), type(Type::kString), str(v) {}
  LogField(std::string_view k, int64_t v) : key(k), type(Type::kInt), i(v) {}
  LogField(std::string_view k, int v) : key(k), type(Type::kInt), i(v) {}
  LogField(std::string_view k, double v) : key(k), type(Type::kDouble), d(v) {}

  std::string_view key;
  Type type;
  std::string_view str;
  int64_t i = 0;
  double d = 0;
};

// True for field names that carry secrets (password, token, secret, api_key, authorization,
// cookie…); their values are written as "[REDACTED]".
bool is_secret_field(std::string_view key);

class Logger {
 public:
  Logger(LogLevel level, LogFormat format, std::FILE* out);

  bool enabled(LogLevel level) const { return level >= level_.load(std::memory_order_relaxed); }
  LogLevel level() const { return level_.load(std::memory_order_relaxed); }
  // Safe while other threads log (SIGHUP reload).
  void set_level(LogLevel level) { level_.store(level, std::memory_order_relaxed); }

  // Writes one line: ts, level, logger, msg, then `fields` in order.
  void write(LogLevel level, std::string_view logger, std::string_view msg,
             std::initializer_list<LogField> fields = {});

  // Writes one line whatever the logger's level: for callers that apply their own threshold
  // (a plugin's `log_level`).
  void emit(LogLevel level, std::string_view logger, std::string_view msg,
            std::initializer_list<LogField> fields = {});

  void info(std::string_view logger, std::string_view msg,
            std::initializer_list<LogField> fields = {}) {
    write(LogLevel::kInfo, logger, msg, fields);
  }
  void warn(std::string_view logger, std::string_view msg,
            std::initializer_list<LogField> fields = {}) {
    write(LogLevel::kWarn, logger, msg, fields);
  }
  void error(std::string_view logger, std::string_view msg,
             std::initializer_list<LogField> fields = {}) {
    write(LogLevel::kError, logger, msg, fields);
  }

 private:
  std::atomic<LogLevel> level_;
  LogFormat format_;
  std::FILE* out_;
  std::mutex mutex_;
};

}  // namespace plughost
