// pii.hpp — personal data in raw tables: hints from column names and patterns in values (e-mail
// addresses, phone numbers, card numbers passing the Luhn check, US SSN-format national IDs,
// IPv4/IPv6 addresses). Pure functions; governance.hpp stores and serves the findings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warehouse_read.hpp"

namespace dango {

// The PII type a column's name suggests ("email", "phone", "credit_card", "national_id",
// "ip_address", "person_name", "date_of_birth", "address", "passport"); nullopt: none.
std::optional<std::string> pii_type_of_name(std::string_view column);
// The PII type one value matches: email, phone, credit_card, national_id or ip_address.
std::optional<std::string> pii_type_of_value(std::string_view value);
// The Luhn checksum of a string of digits.
bool luhn_valid(std::string_view digits);

struct PiiFinding {
  std::string column;
  std::string pii_type;
  std::string detected_by;  // "name", "values" or "name+values"
  int64_t matches = 0;      // sampled values of that type
  int64_t sampled = 0;      // non-NULL values sampled
};

// Findings for the sampled `rows` (cells in the order of `columns`): a column is flagged by its
// name, or when at least half of its non-NULL sampled values match one type.
std::vector<PiiFinding> scan_for_pii(const std::vector<std::string>& columns,
                                     const std::vector<std::vector<Cell>>& rows);

}  // namespace dango
