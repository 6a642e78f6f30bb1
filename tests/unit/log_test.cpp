#include "log/log.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdio>
#include <string>

namespace plughost {
namespace {

// Captures what a Logger writes, through a real FILE*.
class Capture {
 public:
  Capture() : file_(std::tmpfile()) {}
  ~Capture() { std::fclose(file_); }
  std::FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    std::rewind(file_);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), file_)) > 0) out.append(buf, n);
    return out;
  }

 private:
  std::FILE* file_;
};

TEST(Logger, WritesOneJsonObjectPerLineWithStandardFields) {
  Capture cap;
  Logger log(LogLevel::kInfo, LogFormat::kJson, cap.file());
  log.info("loader", "plugin \"x\" started", {{"plugin", "x"}, {"routes", 3}});
  std::string text = cap.text();
  ASSERT_EQ(text.back(), '\n');
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size() - 1);
  ASSERT_FALSE(d.HasParseError()) << text;
  EXPECT_STREQ(d["level"].GetString(), "info");
  EXPECT_STREQ(d["logger"].GetString(), "loader");
  EXPECT_STREQ(d["msg"].GetString(), "plugin \"x\" started");
  EXPECT_STREQ(d["plugin"].GetString(), "x");
  EXPECT_EQ(d["routes"].GetInt(), 3);
  EXPECT_TRUE(d["ts"].IsString());
}

TEST(Logger, DropsLinesBelowItsLevel) {
  Capture cap;
  Logger log(LogLevel::kWarn, LogFormat::kText, cap.file());
  log.info("x", "quiet");
  log.warn("x", "loud");
  std::string text = cap.text();
  EXPECT_EQ(text.find("quiet"), std::string::npos);
  EXPECT_NE(text.find("loud"), std::string::npos);
}

TEST(Logger, RedactsSecretFieldsInBothFormats) {
  for (LogFormat format : {LogFormat::kJson, LogFormat::kText}) {
    Capture cap;
    Logger log(LogLevel::kDebug, format, cap.file());
    log.info("auth", "login",
             {{"password", "hunter2"},
              {"Authorization", "Bearer abc"},
              {"api_key", "k-123"},
              {"user", "ada"}});
    std::string text = cap.text();
    EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
    EXPECT_EQ(text.find("Bearer abc"), std::string::npos) << text;
    EXPECT_EQ(text.find("k-123"), std::string::npos) << text;
    EXPECT_NE(text.find("ada"), std::string::npos) << text;
    EXPECT_NE(text.find("[REDACTED]"), std::string::npos) << text;
  }
}

TEST(Logger, ParsesLevels) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::kDebug);
  EXPECT_EQ(parse_log_level("warning"), LogLevel::kWarn);
  EXPECT_FALSE(parse_log_level("loud"));
}

}  // namespace
}  // namespace plughost
