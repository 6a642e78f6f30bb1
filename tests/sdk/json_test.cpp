// plughost/json.hpp: parse_json's nesting bound. Found by fuzzing request bodies: RapidJSON's
// parser recurses once per '[' or '{', so a body of a few megabytes of '[' overflowed the stack of
// the handler thread and killed the host (faults_test has the end-to-end case).
#include <gtest/gtest.h>

#include <plughost/json.hpp>
#include <string>

using plughost::sdk::json_too_deep_at;
using plughost::sdk::kMaxJsonDepth;
using plughost::sdk::parse_json;

TEST(ParseJson, NestingUpToTheBoundParses) {
  std::string text = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  rapidjson::Document d;
  std::string error;
  ASSERT_TRUE(parse_json(text, d, error)) << error;
  EXPECT_TRUE(d.IsArray());
}

TEST(ParseJson, NestingPastTheBoundIsRefusedWithItsOffset) {
  std::string text = "{\"a\":" + std::string(kMaxJsonDepth, '[');
  rapidjson::Document d;
  std::string error;
  EXPECT_FALSE(parse_json(text, d, error));
  EXPECT_EQ(error, "nested deeper than 256 levels at offset " + std::to_string(kMaxJsonDepth + 4));
}

TEST(ParseJson, MegabytesOfOpenBracketsAreRefusedNotACrash) {
  std::string text(8 * 1024 * 1024, '[');
  rapidjson::Document d;
  std::string error;
  EXPECT_FALSE(parse_json(text, d, error));
  EXPECT_NE(error.find("nested deeper than"), std::string::npos) << error;
}

TEST(ParseJson, BracketsInsideStringsDoNotCount) {
  std::string deep_text = std::string(1000, '[') + "\\\"{" + std::string(1000, '{');
  std::string text = "{\"s\":\"" + deep_text + "\",\"t\":[\"\\\\\"]}";
  EXPECT_EQ(json_too_deep_at(text), std::string::npos);
  rapidjson::Document d;
  std::string error;
  ASSERT_TRUE(parse_json(text, d, error)) << error;
  EXPECT_EQ(d["s"].GetStringLength(), 2002u);
  // An escaped backslash before the closing quote ends the string: the brackets after it count.
  EXPECT_EQ(json_too_deep_at("[\"\\\\\"" + std::string(300, '[')), 1 + 4 + 255);
}
