// Unit tests of the inspector's pure parts: the allow-list check, shell-style splitting, form
// decoding and validation messages, showmigrations parsing, migration file discovery.
#include <gtest/gtest.h>

#include <plughost/testing.hpp>

#include "migration_state.hpp"
#include "presets.hpp"
#include "task_run_form.hpp"
#include "text.hpp"

namespace inspector {
namespace {

using Tokens = std::vector<std::string>;

TEST(inspector_units, ShellSplitHandlesQuotesAndEscapesLikeShlex) {
  EXPECT_EQ(*shell_split(R"(python  manage.py dumpdata 'a b' "c\"d" e\ f)"),
            (Tokens{"python", "manage.py", "dumpdata", "a b", "c\"d", "e f"}));
  EXPECT_FALSE(shell_split("python manage.py check 'open"));
  EXPECT_FALSE(shell_split("python manage.py check \"open"));
}

TEST(inspector_units, SafeCommandMatchesAnEntryOrTheEntryFollowedByASpace) {
  auto allow = builtin_safe_commands();
  auto ok = check_safe_command("python   manage.py  check --deploy", allow);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.safe_prefix, "python manage.py check");
  EXPECT_EQ(ok.args, (Tokens{"python", "manage.py", "check", "--deploy"}));
  EXPECT_EQ(check_safe_command("python manage.py checkx", allow).error,
            "Command is not part of INSPECTOR_SAFE_COMMANDS.");
  EXPECT_FALSE(check_safe_command("python manage.py makemigrations", allow).ok());
  EXPECT_TRUE(check_safe_command("python manage.py makemigrations --check --dry-run", allow).ok());
  EXPECT_FALSE(check_safe_command("python manage.py migrate", allow).ok());
  EXPECT_FALSE(check_safe_command("sh -c 'python manage.py check'", allow).ok());
  EXPECT_EQ(check_safe_command("python manage.py check 'x", allow).error,
            "Unable to parse command string.");
}

TEST(inspector_units, SafeCommandEveryBuiltinPresetIsAllowListed) {
  for (const auto& p : builtin_presets()) {
    EXPECT_TRUE(check_safe_command(p.command, builtin_safe_commands()).ok()) << p.key;
  }
}

TEST(inspector_units, ReadFormDecodesUrlEncodedMultipartAndJsonBodies) {
  auto form = *read_form("workspace=a%2Db&notes=two+words&preset=x&preset=check", "");
  EXPECT_EQ(form["workspace"], "a-b");
  EXPECT_EQ(form["notes"], "two words");
  EXPECT_EQ(form["preset"], "check");  // the last value wins, as QueryDict.get()

  std::string multipart =
      "--XyZ\r\nContent-Disposition: form-data; name=\"workspace\"\r\n\r\natlas\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"confirm_safe\"\r\n\r\non\r\n--XyZ--\r\n";
  auto parts = *read_form(multipart, "multipart/form-data; boundary=XyZ");
  EXPECT_EQ(parts["workspace"], "atlas");
  EXPECT_EQ(parts["confirm_safe"], "on");

  auto body = *read_form(R"({"workspace":"atlas","confirm_safe":false,"n":0,"x":null})",
                         "application/json; charset=utf-8");
  EXPECT_EQ(body["confirm_safe"], "false");
  EXPECT_EQ(body["n"], "0");
  EXPECT_EQ(body.count("x"), 0u);
  EXPECT_FALSE(read_form("{not json", "application/json"));
}

TEST(inspector_units, ValidateTaskRunCountsNotesInCharactersNotBytes) {
  Settings settings;
  settings.presets = builtin_presets();
  settings.workspaces.push_back({"atlas", "Atlas", "/tmp", "python3", {}, {}});
  std::string notes;
  for (int i = 0; i < 280; ++i) notes += "\xC3\xA9";  // 280 × "é", 560 bytes
  auto ok = validate_task_run(
      {{"workspace", "atlas"}, {"preset", "check"}, {"confirm_safe", "0"}, {"notes", notes}},
      settings);
  ASSERT_TRUE(ok.request) << errors_json(ok.errors);
  EXPECT_EQ(ok.request->preset->label, "Run system checks");
}

TEST(inspector_units, ShowmigrationsReadsAppliedMigrationsPerApp) {
  auto applied = parse_showmigrations({"catalog", " [X] 0001_initial", " [ ] 0002_snapshot", "ops",
                                       " [X] 0001_initial (2 squashed migrations)", "empty",
                                       " (no migrations)"});
  EXPECT_EQ(applied["catalog"], (std::set<std::string>{"0001_initial"}));
  EXPECT_EQ(applied["ops"], (std::set<std::string>{"0001_initial"}));
  EXPECT_EQ(applied.count("empty"), 0u);
}

TEST(inspector_units, MigrationFilesListsModulesTheWayDjangoFindsThem) {
  std::string dir = plughost::testing::make_temp_dir();
  for (const char* f : {"__init__.py", "0001_initial.py", "0002_more.py", "_private.py",
                        "~backup.py", "notes.txt"}) {
    plughost::testing::write_file(dir + "/" + f, "");
  }
  EXPECT_EQ(migration_files(dir), (Tokens{"0001_initial", "0002_more"}));
  auto missing = read_applied_sqlite(dir + "/no.sqlite3");
  ASSERT_TRUE(missing.applied);
  EXPECT_TRUE(missing.applied->empty());
}

TEST(inspector_units, TextReplacesInvalidUtf8) {
  EXPECT_EQ(valid_utf8("ok \xff\xC3\xA9"), "ok \xEF\xBF\xBD\xC3\xA9");
  EXPECT_EQ(python_number(60), "60");
  EXPECT_EQ(python_number(1.5), "1.5");
}

}  // namespace
}  // namespace inspector
