// sql_text — quoting and small lexical checks on SQL text shared by the translators and the
// chat policy (never the safety guard: read_only_query enforces that in the database).
#pragma once

#include <string>

namespace datachat {

std::string lower_ascii(std::string s);
// "a""b" style identifier quoting and 'it''s' literal quoting (both SQLite and PostgreSQL).
std::string quote_identifier(const std::string& name);
std::string quote_literal(const std::string& value);

// True when `sql` has UNION, INTERSECT or EXCEPT as a keyword outside quotes and comments.
bool has_compound_select(const std::string& sql);

// The first SQL statement in an LLM reply: the body of a ```sql fence if there is one, else
// the text from the first SELECT/WITH; trailing semicolons and blanks removed. "" when none.
std::string extract_sql(const std::string& reply);

}  // namespace datachat
