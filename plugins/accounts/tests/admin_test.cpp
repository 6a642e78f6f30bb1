// User management over HTTP: permissions (every spelling of the admin path), invites, roles,
// password-reset links, deactivation, deletion and the last-admin rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <thread>

#include "support.hpp"

namespace accounts_test {
namespace {

constexpr const char* kViewerPassword = "Quiet-River-Stones-81";

void expect_message(const HttpResponse& r, int status, const std::string& message) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(str(json(r), "message"), message) << r.body;
}

std::string user_path(int64_t id, const std::string& tail = "") {
  return "/api/admin/users/" + std::to_string(id) + tail;
}

TEST(accounts_admin_users, ViewerGets403DangoS002OnEverySpellingOfTheAdminPath) {
  auto host = start_host();
  auto adm = admin(host->port());
  create_user(*adm, "vic@example.com", "viewer", kViewerPassword);
  auto viewer = signed_in(host->port(), "vic@example.com", kViewerPassword);
  auto plain = viewer->get("/api/admin/users");
  ASSERT_EQ(plain.status, 403) << plain.body;
  auto d = json(plain);
  EXPECT_EQ(str(d, "error_code"), "DANGO-S002");
  EXPECT_EQ(str(d, "message"), "Permission denied: users.manage");
  for (const char* path : {"/api/admin/users/", "/API/admin/users", "/api/admin/../admin/users",
                           "/api/admin/%2e%2e/admin/users", "/api/admin/%2E%2E/admin/users",
                           "/api//admin/users", "/api/admin//users//", "/api/%61dmin/users",
                           "/api/admin/user%73", "/api/admin/users%2F", "/api/admin/users?x=1",
                           "/api/./admin/users", "/api/admin/users/.", "/api/admin/users/%2e"}) {
    auto r = viewer->get(path);
    EXPECT_NE(r.status, 200) << path << " " << r.body;
    EXPECT_EQ(r.body.find("vic@example.com"), std::string::npos) << path;
  }
  EXPECT_EQ(
      viewer->post("/api/admin/users", "{\"email\":\"x@example.com\",\"role\":\"admin\"}").status,
      403);
  EXPECT_EQ(
      viewer->post("/api/admin//users/", "{\"email\":\"x@example.com\",\"role\":\"admin\"}").status,
      403);
  EXPECT_EQ(adm->get("/api/admin/users/").status, 200);
}

TEST(accounts_admin_users, InviteThenAcceptSetsThePasswordOnce) {
  auto host = start_host();
  auto adm = admin(host->port());
  auto created = adm->post("/api/admin/users",
                           "{\"email\":\"Ann@Example.com\",\"role\":\"editor\","
                           "\"display_name\":\"Ann\"}");
  ASSERT_EQ(created.status, 201) << created.body;
  auto d = json(created);
  EXPECT_EQ(str(d["user"], "email"), "ann@example.com");
  EXPECT_TRUE(d["user"]["has_pending_invite"].GetBool());
  EXPECT_TRUE(d["user"]["invite_expires_at"].IsString());
  std::string url = str(d, "invite_url");
  ASSERT_EQ(url.rfind("/invite/", 0), 0u) << url;
  std::string token = link_token(url);
  expect_message(
      adm->post("/api/admin/users", "{\"email\":\"ann@example.com\",\"role\":\"viewer\"}"), 409,
      "A user with this email already exists");
  expect_message(adm->post("/api/admin/users", "{\"email\":\"nope\",\"role\":\"viewer\"}"), 400,
                 "Invalid email address");
  EXPECT_EQ(adm->post("/api/admin/users", "{\"email\":\"z@example.com\",\"role\":\"boss\"}").status,
            400);

  int port = host->port();
  auto accept = [&](const std::string& t, const std::string& password) {
    return http(port, "POST", "/api/auth/accept-invite", {},
                "{\"token\":\"" + t + "\",\"password\":\"" + password + "\"}");
  };
  auto weak = accept(token, "password123");
  EXPECT_EQ(weak.status, 400);
  EXPECT_EQ(str(json(weak), "message"), "Password is too weak");
  expect_message(accept("made-up-token", "Golden-Fields-Of-Wheat-3"), 400,
                 "This invite link is invalid or has expired");
  auto ok = accept(token, "Golden-Fields-Of-Wheat-3");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body, "{\"message\":\"Password set successfully\"}");
  EXPECT_EQ(ok.headers.count("set-cookie"), 0u) << "accepting an invite signs nobody in";
  expect_message(accept(token, "Golden-Fields-Of-Wheat-4"), 400,
                 "This invite link is invalid or has expired");
  auto ann = signed_in(port, "ann@example.com", "Golden-Fields-Of-Wheat-3");
  auto me = json(ann->get("/api/auth/me"));
  EXPECT_EQ(str(me["user"], "role"), "editor");
  EXPECT_FALSE(me["user"]["has_pending_invite"].GetBool());
}

TEST(accounts_admin_users, ReinviteReplacesTheLinkAndExpiredLinksFail) {
  HostSetup s;
  s.accounts = "      invite_seconds: 1\n";
  auto host = start_host(s);
  auto adm = admin(host->port());
  auto created =
      json(adm->post("/api/admin/users", "{\"email\":\"bo@example.com\",\"role\":\"viewer\"}"));
  int64_t id = created["user"]["id"].GetInt64();
  std::string first = link_token(str(created, "invite_url"));
  auto reinvite = adm->post(user_path(id, "/reinvite"));
  ASSERT_EQ(reinvite.status, 200) << reinvite.body;
  std::string second = link_token(str(json(reinvite), "invite_url"));
  EXPECT_NE(first, second);
  int port = host->port();
  auto accept = [&](const std::string& t) {
    return http(port, "POST", "/api/auth/accept-invite", {},
                "{\"token\":\"" + t + "\",\"password\":\"Golden-Fields-Of-Wheat-3\"}");
  };
  EXPECT_EQ(accept(first).status, 400) << "the old link died with the reinvite";
  // Wait (bounded) for the one-second link to pass its expiry, then it is refused.
  std::time_t issued = std::time(nullptr);
  EXPECT_TRUE(eventually([&] { return std::time(nullptr) >= issued + 2; }, 5));
  EXPECT_EQ(accept(second).status, 400);
}

TEST(accounts_admin_users, TempPasswordUsersMustChangeIt) {
  auto host = start_host();
  auto adm = admin(host->port());
  auto created =
      adm->post("/api/admin/users",
                "{\"email\":\"tim@example.com\",\"role\":\"viewer\",\"temp_password\":true}");
  ASSERT_EQ(created.status, 201) << created.body;
  auto d = json(created);
  std::string temp = str(d, "temp_password");
  EXPECT_GE(temp.size(), 16u);
  EXPECT_FALSE(d.HasMember("invite_url"));
  Client c(host->port());
  auto login = c.post("/api/auth/login", login_body("tim@example.com", temp));
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_TRUE(json(login)["must_change_password"].GetBool());
  EXPECT_EQ(adm->post(user_path(d["user"]["id"].GetInt64(), "/reinvite")).status, 400);
}

TEST(accounts_admin_users, RoleChangesTakeEffectOnTheNextRequestAndTheLastAdminStays) {
  auto host = start_host();
  auto adm = admin(host->port());
  int64_t vic = create_user(*adm, "vic@example.com", "viewer", kViewerPassword);
  auto viewer = signed_in(host->port(), "vic@example.com", kViewerPassword);
  EXPECT_EQ(viewer->get("/api/admin/users").status, 403);
  auto promoted = adm->put(user_path(vic, "/role"), "{\"role\":\"admin\"}");
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(str(json(promoted)["user"], "role"), "admin");
  EXPECT_EQ(viewer->get("/api/admin/users").status, 200);
  EXPECT_EQ(adm->put(user_path(vic, "/role"), "{\"role\":\"boss\"}").status, 400);
  ASSERT_EQ(adm->put(user_path(vic, "/role"), "{\"role\":\"viewer\"}").status, 200);
  EXPECT_EQ(viewer->get("/api/admin/users").status, 403);
  int64_t self = json(adm->get("/api/auth/me"))["user"]["id"].GetInt64();
  expect_message(adm->put(user_path(self, "/role"), "{\"role\":\"editor\"}"), 409,
                 "Cannot demote the only active admin");
  expect_message(adm->put(user_path(999, "/role"), "{\"role\":\"editor\"}"), 404, "User not found");
}

TEST(accounts_admin_users, ResetLinkSetsANewPasswordAndEndsSessions) {
  auto host = start_host();
  auto adm = admin(host->port());
  int64_t vic = create_user(*adm, "vic@example.com", "viewer", kViewerPassword);
  auto viewer = signed_in(host->port(), "vic@example.com", kViewerPassword);
  auto reset = adm->post(user_path(vic, "/reset-password"));
  ASSERT_EQ(reset.status, 200) << reset.body;
  std::string token = link_token(str(json(reset), "reset_url"));
  EXPECT_EQ(viewer->get("/api/auth/me").status, 200) << "nothing changes until the link is used";
  auto accept = http(host->port(), "POST", "/api/auth/accept-invite", {},
                     "{\"token\":\"" + token + "\",\"password\":\"Brand-New-Lantern-55\"}");
  ASSERT_EQ(accept.status, 200) << accept.body;
  EXPECT_EQ(viewer->get("/api/auth/me").status, 401);
  Client c(host->port());
  EXPECT_EQ(c.post("/api/auth/login", login_body("vic@example.com", kViewerPassword)).status, 400);
  EXPECT_EQ(c.post("/api/auth/login", login_body("vic@example.com", "Brand-New-Lantern-55")).status,
            200);
}

TEST(accounts_admin_users, DeactivationEndsAccessAtOnceAndReactivationRestoresSignIn) {
  auto host = start_host();
  auto adm = admin(host->port());
  int64_t vic = create_user(*adm, "vic@example.com", "viewer", kViewerPassword);
  auto viewer = signed_in(host->port(), "vic@example.com", kViewerPassword);
  std::string key = str(json(viewer->post("/api/auth/api-keys", "{\"name\":\"k\"}")), "key");
  int64_t self = json(adm->get("/api/auth/me"))["user"]["id"].GetInt64();
  expect_message(adm->post(user_path(self, "/deactivate")), 409,
                 "Cannot deactivate your own account");
  auto off = adm->post(user_path(vic, "/deactivate"));
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_FALSE(json(off)["user"]["is_active"].GetBool());
  EXPECT_EQ(viewer->get("/api/auth/me").status, 401);
  EXPECT_EQ(http(host->port(), "GET", "/api/auth/me", {{"X-API-Key", key}}).status, 401);
  Client c(host->port());
  EXPECT_EQ(c.post("/api/auth/login", login_body("vic@example.com", kViewerPassword)).status, 400);
  ASSERT_EQ(adm->post(user_path(vic, "/reactivate")).status, 200);
  EXPECT_EQ(c.post("/api/auth/login", login_body("vic@example.com", kViewerPassword)).status, 200);
  // The key died with the deactivation: reactivating does not bring it back.
  EXPECT_EQ(http(host->port(), "GET", "/api/auth/me", {{"X-API-Key", key}}).status, 401);
  EXPECT_EQ(json(c.get("/api/auth/api-keys"))["api_keys"].Size(), 0u);
}

TEST(accounts_admin_users, DeleteNeedsTheMatchingEmailAndNeverTheLastAdminOrSelf) {
  auto host = start_host();
  auto adm = admin(host->port());
  int64_t vic = create_user(*adm, "vic@example.com", "viewer", kViewerPassword);
  expect_message(adm->del(user_path(vic)), 400, "Invalid request body");
  expect_message(adm->del(user_path(vic), "{\"confirm_email\":\"other@example.com\"}"), 400,
                 "Email confirmation does not match");
  int64_t self = json(adm->get("/api/auth/me"))["user"]["id"].GetInt64();
  expect_message(adm->del(user_path(self), "{\"confirm_email\":\"admin@example.com\"}"), 409,
                 "Cannot delete your own account");
  auto ok = adm->del(user_path(vic), "{\"confirm_email\":\"VIC@example.com\"}");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(json(ok)["success"].GetBool());
  expect_message(adm->del(user_path(vic), "{\"confirm_email\":\"vic@example.com\"}"), 404,
                 "User not found");
  EXPECT_EQ(json(adm->get("/api/admin/users"))["users"].Size(), 1u);
}

TEST(accounts_admin_users, TheOnlyActiveAdminCannotBeDeactivatedDeletedOrDemoted) {
  HostSetup s;
  s.roles = "{admin: [\"*\"], viewer: [source.view], manager: [users.manage]}";
  auto host = start_host(s);
  auto adm = admin(host->port());
  int64_t meg = create_user(*adm, "meg@example.com", "manager", kViewerPassword);
  auto manager = signed_in(host->port(), "meg@example.com", kViewerPassword);
  int64_t root = json(adm->get("/api/auth/me"))["user"]["id"].GetInt64();
  expect_message(manager->post(user_path(root, "/deactivate")), 409,
                 "Cannot deactivate the only active admin");
  expect_message(manager->del(user_path(root), "{\"confirm_email\":\"admin@example.com\"}"), 409,
                 "Cannot delete the only active admin");
  expect_message(manager->put(user_path(root, "/role"), "{\"role\":\"viewer\"}"), 409,
                 "Cannot demote the only active admin");
  ASSERT_EQ(adm->put(user_path(meg, "/role"), "{\"role\":\"admin\"}").status, 200);
  EXPECT_EQ(manager->post(user_path(root, "/deactivate")).status, 200) << "two admins now";
  EXPECT_EQ(adm->get("/api/auth/me").status, 401);
}

TEST(accounts_admin_users, RevokeSessionsSignsTheUserOutEverywhere) {
  auto host = start_host();
  auto adm = admin(host->port());
  int64_t vic = create_user(*adm, "vic@example.com", "viewer", kViewerPassword);
  auto a = signed_in(host->port(), "vic@example.com", kViewerPassword);
  auto b = signed_in(host->port(), "vic@example.com", kViewerPassword);
  std::string key = str(json(a->post("/api/auth/api-keys", "{\"name\":\"k\"}")), "key");
  ASSERT_EQ(http(host->port(), "GET", "/api/auth/me", {{"X-API-Key", key}}).status, 200);
  auto tokens = json(http(
      host->port(), "POST", "/api/auth/token/", {},
      "{\"username\":\"vic@example.com\",\"password\":\"" + std::string(kViewerPassword) + "\"}"));
  std::string access = str(tokens, "access");
  ASSERT_EQ(
      http(host->port(), "GET", "/api/auth/me", {{"Authorization", "Bearer " + access}}).status,
      200);
  auto r = adm->post(user_path(vic, "/revoke-sessions"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json(r)["success"].GetBool());
  EXPECT_EQ(a->get("/api/auth/me").status, 401);
  EXPECT_EQ(b->get("/api/auth/me").status, 401);
  EXPECT_EQ(http(host->port(), "GET", "/api/auth/me", {{"X-API-Key", key}}).status, 401);
  EXPECT_EQ(http(host->port(), "GET", "/api/auth/me", {{"Authorization", "Bearer " + key}}).status,
            401);
  EXPECT_EQ(
      http(host->port(), "GET", "/api/auth/me", {{"Authorization", "Bearer " + access}}).status,
      401);
  EXPECT_EQ(http(host->port(), "POST", "/api/auth/token/refresh/", {},
                 "{\"refresh\":\"" + str(tokens, "refresh") + "\"}")
                .status,
            401);
}

TEST(accounts_admin_users, APasswordChangeKeepsApiKeys) {
  auto host = start_host();
  auto adm = admin(host->port());
  create_user(*adm, "vic@example.com", "viewer", kViewerPassword);
  auto viewer = signed_in(host->port(), "vic@example.com", kViewerPassword);
  std::string key = str(json(viewer->post("/api/auth/api-keys", "{\"name\":\"k\"}")), "key");
  auto r = viewer->post("/api/auth/change-password",
                        "{\"current_password\":\"" + std::string(kViewerPassword) +
                            "\",\"new_password\":\"Brand-New-Lantern-55\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(http(host->port(), "GET", "/api/auth/me", {{"X-API-Key", key}}).status, 200);
}

TEST(accounts_admin_users, ConcurrentUsesOfOneLinkSetOnePassword) {
  auto host = start_host();
  auto adm = admin(host->port());
  int64_t vic = create_user(*adm, "vic@example.com", "viewer", kViewerPassword);
  auto reset = adm->post(user_path(vic, "/reset-password"));
  ASSERT_EQ(reset.status, 200) << reset.body;
  std::string token = link_token(str(json(reset), "reset_url"));
  std::vector<int> statuses(6, 0);
  std::vector<std::string> messages(statuses.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < statuses.size(); ++i) {
    threads.emplace_back([&, i] {
      auto r = http(host->port(), "POST", "/api/auth/accept-invite", {},
                    "{\"token\":\"" + token + "\",\"password\":\"Brand-New-Lantern-5" +
                        std::to_string(i) + "\"}");
      statuses[i] = r.status;
      if (r.status != 200) messages[i] = str(json(r), "message");
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(std::count(statuses.begin(), statuses.end(), 200), 1);
  size_t winner = std::find(statuses.begin(), statuses.end(), 200) - statuses.begin();
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (i == winner) continue;
    EXPECT_EQ(statuses[i], 400);
    EXPECT_EQ(messages[i], "This invite link is invalid or has expired");
  }
  Client c(host->port());
  auto login = [&](size_t i) {
    return c
        .post("/api/auth/login",
              login_body("vic@example.com", "Brand-New-Lantern-5" + std::to_string(i)))
        .status;
  };
  // The winner first: the five losing passwords that follow are exactly the lockout threshold,
  // which answers 400 until the sixth attempt.
  EXPECT_EQ(login(winner), 200);
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (i != winner) {
      EXPECT_EQ(login(i), 400) << i;
    }
  }
}

TEST(accounts_admin_users, UnknownIdsAre404) {
  auto host = start_host();
  auto adm = admin(host->port());
  for (const char* tail : {"/reinvite", "/reset-password", "/deactivate", "/reactivate", "/unlock",
                           "/revoke-sessions"}) {
    expect_message(adm->post(user_path(4242, tail)), 404, "User not found");
  }
  expect_message(adm->post("/api/admin/users/abc/unlock"), 404, "User not found");
}

}  // namespace
}  // namespace accounts_test
