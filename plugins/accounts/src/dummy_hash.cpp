#include "dummy_hash.hpp"

#include "crypto.hpp"

namespace accounts {

namespace {
constexpr const char* kName = "dummy_password_hash";
}

DummyHash load_or_make_dummy_hash(const Db& db, const PasswordCost& cost) {
  {
    auto st = db.sql("SELECT value FROM accounts_state WHERE name = :name");
    st.bind(":name", kName);
    if (st.step()) {
      std::string stored(st.text(0));
      if (hashed_with(cost, stored)) return {stored, false};
    }
  }
  DummyHash made{hash_password(cost, random_token()), true};
  auto st = db.sql(
      "INSERT INTO accounts_state (name, value) VALUES (:name, :value) "
      "ON CONFLICT (name) DO UPDATE SET value = excluded.value");
  st.bind(":name", kName).bind(":value", made.hash);
  st.exec();
  return made;
}

}  // namespace accounts
