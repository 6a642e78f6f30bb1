// plughost/testing_authenticator.hpp — for test plugins only: the `authenticate` answer of a
// stand-in authenticator where "Authorization: Bearer <role>" is the user "<role>" holding that
// one role, and anything else is nobody. Lets a plugin's tests exercise the host's permission
// checks without the accounts plugin. Header-only, no GoogleTest (it is compiled into plugins).
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace plughost::testing {

inline std::string role_bearer_principal(std::string_view authenticate_input) {
  rapidjson::Document in;
  in.Parse(authenticate_input.data(), authenticate_input.size());
  if (in.HasParseError() || !in.IsObject() || !in.HasMember("scheme") || in["scheme"] != "bearer" ||
      !in.HasMember("credential") || !in["credential"].IsString()) {
    return R"({"principal":null})";
  }
  std::string role = in["credential"].GetString();
  return R"({"principal":{"kind":"user","id":")" + role + R"(","roles":[")" + role +
         R"("],"partial":false}})";
}

}  // namespace plughost::testing
