// Governance: PII patterns and drift comparison in process; over HTTP against the real host and
// SQLite warehouse, a CSV source whose columns change between two syncs (drift recorded, flagged,
// accepted), PII found in its values and columns with config overrides, and a failed sync, all
// surfacing in `attention`.
#include <gtest/gtest.h>

#include <set>

#include "drift.hpp"
#include "lab.hpp"
#include "pii.hpp"

namespace {

using namespace dango_test;
using dango::Column;
using dango::ColumnType;

TEST(dango_pii, RecognisesEachValuePattern) {
  EXPECT_EQ(dango::pii_type_of_value("ada@example.com"), "email");
  EXPECT_EQ(dango::pii_type_of_value(" Grace.Hopper+navy@mail.example.org "), "email");
  EXPECT_EQ(dango::pii_type_of_value("4111 1111 1111 1111"), "credit_card");
  EXPECT_EQ(dango::pii_type_of_value("5500-0000-0000-0004"), "credit_card");
  EXPECT_EQ(dango::pii_type_of_value("078-05-1120"), "national_id");
  EXPECT_EQ(dango::pii_type_of_value("192.168.10.1"), "ip_address");
  EXPECT_EQ(dango::pii_type_of_value("2001:db8::8a2e:370:7334"), "ip_address");
  EXPECT_EQ(dango::pii_type_of_value("+44 20 7946 0958"), "phone");
  EXPECT_EQ(dango::pii_type_of_value("(555) 123-4567"), "phone");
  EXPECT_EQ(dango::pii_type_of_value("555.123.4567"), "phone");
}

TEST(dango_pii, RejectsLookalikes) {
  EXPECT_FALSE(dango::luhn_valid("4111111111111112"));
  EXPECT_TRUE(dango::luhn_valid("79927398713"));
  EXPECT_EQ(dango::pii_type_of_value("4111 1111 1111 1112"), std::nullopt);  // Luhn fails
  EXPECT_EQ(dango::pii_type_of_value("0000 0000 0000 0000"), std::nullopt);
  EXPECT_EQ(dango::pii_type_of_value("666-12-3456"), std::nullopt);  // area never issued
  EXPECT_EQ(dango::pii_type_of_value("123-00-4567"), std::nullopt);
  EXPECT_EQ(dango::pii_type_of_value("2026-01-02"), std::nullopt);  // a date
  EXPECT_EQ(dango::pii_type_of_value("1234567890"), std::nullopt);  // a plain number
  EXPECT_EQ(dango::pii_type_of_value("12345678.901"), std::nullopt);
  EXPECT_EQ(dango::pii_type_of_value("256.1.1.1"), std::nullopt);
  EXPECT_EQ(dango::pii_type_of_value("1.2.3"), std::nullopt);
  EXPECT_EQ(dango::pii_type_of_value("not@an email.com"), std::nullopt);
  EXPECT_EQ(dango::pii_type_of_value("user@localhost"), std::nullopt);
}

TEST(dango_pii, HintsFromColumnNames) {
  EXPECT_EQ(dango::pii_type_of_name("Customer_Email"), "email");
  EXPECT_EQ(dango::pii_type_of_name("mobile_number"), "phone");
  EXPECT_EQ(dango::pii_type_of_name("ssn"), "national_id");
  EXPECT_EQ(dango::pii_type_of_name("credit_card"), "credit_card");
  EXPECT_EQ(dango::pii_type_of_name("client_ip"), "ip_address");
  EXPECT_EQ(dango::pii_type_of_name("LastName"), "person_name");
  EXPECT_EQ(dango::pii_type_of_name("last_name"), "person_name");
  EXPECT_EQ(dango::pii_type_of_name("date_of_birth"), "date_of_birth");
  EXPECT_EQ(dango::pii_type_of_name("shipping_zip"), "address");
  EXPECT_EQ(dango::pii_type_of_name("description"), std::nullopt);  // "ip" inside a word
  EXPECT_EQ(dango::pii_type_of_name("amount"), std::nullopt);
}

TEST(dango_pii, FlagsAColumnWhenHalfItsSampledValuesMatch) {
  using Cell = dango::Cell;
  std::vector<std::string> columns = {"contact", "mixed", "note"};
  std::vector<std::vector<Cell>> rows = {
      {Cell("a@example.com"), Cell("b@example.com"), Cell("hello")},
      {Cell("c@example.com"), Cell("x"), std::nullopt},
      {std::nullopt, Cell("y"), Cell("world")},
  };
  auto found = dango::scan_for_pii(columns, rows);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].column, "contact");
  EXPECT_EQ(found[0].pii_type, "email");
  EXPECT_EQ(found[0].detected_by, "values");
  EXPECT_EQ(found[0].matches, 2);
  EXPECT_EQ(found[0].sampled, 2);
}

TEST(dango_drift, DiffsColumnsByNameAndType) {
  std::vector<Column> before = {
      {"id", ColumnType::kInteger}, {"amount", ColumnType::kInteger}, {"card", ColumnType::kText}};
  std::vector<Column> after = {
      {"id", ColumnType::kInteger}, {"amount", ColumnType::kText}, {"country", ColumnType::kText}};
  auto changes = dango::diff_columns(before, after);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].change, "type_changed");
  EXPECT_EQ(changes[0].column, "amount");
  EXPECT_EQ(changes[0].old_type, "integer");
  EXPECT_EQ(changes[0].new_type, "text");
  EXPECT_TRUE(changes[0].breaking());
  EXPECT_EQ(changes[1].change, "column_added");
  EXPECT_FALSE(changes[1].breaking());
  EXPECT_EQ(changes[2].change, "column_removed");
  EXPECT_EQ(changes[2].column, "card");
  EXPECT_TRUE(changes[2].breaking());
  EXPECT_TRUE(dango::diff_columns(after, after).empty());
}

const char* kOverrides =
    "governance: {pii_overrides: ["
    "{source: crm, column: server_ip, pii_type: none, reason: \"our own servers\"},"
    "{source: crm, table: crm, column: nickname, pii_type: person_name}]}";

const std::string kCustomersV1 =
    "id,email,phone,card,ssn,server_ip,nickname,amount\n"
    "1,ada@example.com,+44 20 7946 0958,4111 1111 1111 1111,078-05-1120,10.0.0.1,ada,10\n"
    "2,grace@example.org,(555) 123-4567,5500 0000 0000 0004,219-09-9999,10.0.0.2,amazing,20\n"
    "3,alan@example.net,555.123.4567,4012888888881881,123-45-6789,10.0.0.3,turing,30\n";

const std::string kCustomersV2 =
    "id,email,phone,ssn,server_ip,nickname,amount,country\n"
    "1,ada@example.com,+44 20 7946 0958,078-05-1120,10.0.0.1,ada,n/a,UK\n"
    "2,grace@example.org,(555) 123-4567,219-09-9999,10.0.0.2,amazing,20,US\n";

std::map<std::string, const rapidjson::Value*> by_column(const rapidjson::Value& list) {
  std::map<std::string, const rapidjson::Value*> out;
  for (const auto& f : list.GetArray()) out[f["column"].GetString()] = &f;
  return out;
}

TEST(dango_governance, RecordsDriftFindsPiiAndRaisesAttention) {
  Lab lab(LabSetup("[{name: crm, type: csv}, {name: broken, type: csv}]", false, kOverrides));
  ASSERT_TRUE(lab.ready()) << lab.host().output();
  const std::string file = lab.folder("crm") + "/customers.csv";
  write_text(file, kCustomersV1);
  ASSERT_EQ(lab.sync_and_wait("crm"), "success");

  // First sync: a silent baseline.
  auto drift = json(lab.get("/api/governance/schema-drift"));
  EXPECT_EQ(drift["total"].GetInt64(), 0);

  auto pii = json(lab.get("/api/governance/pii?source=crm"));
  auto found = by_column(pii["findings"]);
  ASSERT_TRUE(found.count("email")) << plughost::sdk::to_json(pii);
  EXPECT_STREQ((*found["email"])["pii_type"].GetString(), "email");
  EXPECT_STREQ((*found["email"])["detected_by"].GetString(), "name+values");
  EXPECT_EQ((*found["email"])["matches"].GetInt64(), 3);
  ASSERT_TRUE(found.count("phone"));
  EXPECT_STREQ((*found["phone"])["pii_type"].GetString(), "phone");
  ASSERT_TRUE(found.count("card"));
  EXPECT_STREQ((*found["card"])["pii_type"].GetString(), "credit_card");
  EXPECT_STREQ((*found["card"])["detected_by"].GetString(), "values");
  ASSERT_TRUE(found.count("ssn"));
  EXPECT_STREQ((*found["ssn"])["pii_type"].GetString(), "national_id");
  EXPECT_FALSE(found.count("server_ip")) << "overridden as none";
  ASSERT_TRUE(found.count("nickname"));
  EXPECT_TRUE((*found["nickname"])["overridden"].GetBool());
  EXPECT_STREQ((*found["nickname"])["detected_by"].GetString(), "override");
  EXPECT_FALSE(found.count("amount"));
  EXPECT_FALSE(found.count("id"));
  EXPECT_EQ(json(lab.get("/api/governance/pii?source=broken"))["total"].GetInt64(), 0);
  EXPECT_EQ(json(lab.get("/api/governance/pii?table=nothing"))["total"].GetInt64(), 0);

  auto overrides = json(lab.get("/api/governance/pii/overrides"));
  ASSERT_EQ(overrides["total"].GetInt64(), 2);
  EXPECT_STREQ(overrides["overrides"][0]["column"].GetString(), "server_ip");
  EXPECT_FALSE(overrides["overrides"][0]["is_pii"].GetBool());
  EXPECT_STREQ(overrides["overrides"][0]["table"].GetString(), "crm");

  // The columns change: card removed, country added, amount no longer a number.
  write_text(file, kCustomersV2);
  bump_mtime(file, 5);
  ASSERT_EQ(lab.sync_and_wait("crm"), "success");
  drift = json(lab.get("/api/governance/schema-drift?source=crm&table=crm"));
  ASSERT_EQ(drift["total"].GetInt64(), 3) << plughost::sdk::to_json(drift);
  EXPECT_EQ(drift["pending_breaking"].GetInt64(), 2);
  std::map<std::string, std::string> changes;
  for (const auto& e : drift["events"].GetArray()) {
    changes[e["column"].GetString()] =
        std::string(e["change_type"].GetString()) + "/" + e["severity"].GetString();
    EXPECT_STREQ(e["schema"].GetString(), "raw_crm");
    EXPECT_FALSE(e["accepted"].GetBool());
  }
  EXPECT_EQ(changes["card"], "column_removed/breaking");
  EXPECT_EQ(changes["country"], "column_added/additive");
  EXPECT_EQ(changes["amount"], "type_changed/breaking");
  for (const auto& e : drift["events"].GetArray()) {
    if (std::string(e["column"].GetString()) == "amount") {
      EXPECT_STREQ(e["old_type"].GetString(), "integer");
      EXPECT_STREQ(e["new_type"].GetString(), "text");
    }
  }
  EXPECT_EQ(json(lab.get("/api/governance/schema-drift?source=broken"))["total"].GetInt64(), 0);
  auto logs = json(lab.get("/api/sources/crm/logs"));
  bool logged = false;
  for (const auto& l : logs["logs"].GetArray()) {
    logged =
        logged ||
        (std::string(l["event"].GetString()) == "schema_drift" &&
         std::string(l["message"].GetString()).find("2 breaking schema change(s) detected") == 0);
  }
  EXPECT_TRUE(logged);

  // A failed sync of another source.
  write_text(lab.folder("broken") + "/x.csv", "a,b\n1,2,3\n");
  ASSERT_EQ(lab.sync_and_wait("broken"), "failed");

  auto att = json(lab.get("/api/governance/attention"));
  ASSERT_EQ(att["total"].GetInt64(), 2) << plughost::sdk::to_json(att);
  std::map<std::string, std::set<std::string>> issues;
  std::string drift_message;
  for (const auto& s : att["sources"].GetArray()) {
    for (const auto& i : s["issues"].GetArray()) {
      issues[s["source"].GetString()].insert(i["type"].GetString());
      if (std::string(i["type"].GetString()) == "schema_drift") {
        drift_message = i["message"].GetString();
      }
    }
  }
  EXPECT_EQ(issues["crm"], (std::set<std::string>{"schema_drift", "pii_detected"}));
  EXPECT_EQ(issues["broken"], (std::set<std::string>{"sync_failed"}));
  EXPECT_EQ(drift_message, "2 breaking schema change(s) detected");

  // Accepting clears the flag, keeps the history.
  auto accepted = lab.post("/api/governance/drift/CRM/accept", "");
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(json(accepted)["accepted"].GetInt64(), 3);
  drift = json(lab.get("/api/governance/schema-drift?source=crm"));
  EXPECT_EQ(drift["total"].GetInt64(), 3);
  EXPECT_EQ(drift["pending_breaking"].GetInt64(), 0);
  EXPECT_TRUE(drift["events"][0]["accepted"].GetBool());
  att = json(lab.get("/api/governance/attention"));
  issues.clear();
  for (const auto& s : att["sources"].GetArray()) {
    for (const auto& i : s["issues"].GetArray()) {
      issues[s["source"].GetString()].insert(i["type"].GetString());
    }
  }
  EXPECT_EQ(issues["crm"], (std::set<std::string>{"pii_detected"}));

  // A third sync with the same columns records nothing new; `id` has no value in it, so its
  // inferred type (text) is no type change.
  write_text(lab.folder("crm") + "/more.csv",
             "id,email,phone,ssn,server_ip,nickname,amount,"
             "country\n,z@example.com,,,,,x,FR\n");
  ASSERT_EQ(lab.sync_and_wait("crm"), "success");
  EXPECT_EQ(json(lab.get("/api/governance/schema-drift?source=crm"))["total"].GetInt64(), 3);

  EXPECT_EQ(lab.post("/api/governance/drift/nope/accept", "").status, 404);
  auto bad = lab.post("/api/governance/drift/no-pe/accept", "");
  EXPECT_EQ(bad.status, 400);
  EXPECT_STREQ(json(bad)["error_code"].GetString(), "DANGO-V002");
  EXPECT_EQ(lab.get("/api/governance/schema-drift?source=a;b").status, 400);
}

}  // namespace
