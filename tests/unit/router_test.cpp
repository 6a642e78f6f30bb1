#include "http/router.hpp"

#include <gtest/gtest.h>

namespace plughost {
namespace {

RouteEntry route(std::string method, std::string pattern, std::string plugin = "p") {
  RouteEntry e;
  e.method = std::move(method);
  e.pattern = std::move(pattern);
  e.plugin = std::move(plugin);
  return e;
}

std::string param(const RouteMatch& m, std::string_view name) {
  for (const auto& [k, v] : m.params) {
    if (k == name) return std::string(v);
  }
  return "<none>";
}

TEST(Router, MatchesLiteralRoute) {
  Router r;
  ASSERT_FALSE(r.add(route("GET", "/api/items")));
  auto m = r.match("GET", "/api/items");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->pattern, "/api/items");
}

TEST(Router, ExtractsNamedParams) {
  Router r;
  ASSERT_FALSE(r.add(route("GET", "/api/items/:id/parts/:part")));
  auto m = r.match("GET", "/api/items/42/parts/wheel");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(param(m, "id"), "42");
  EXPECT_EQ(param(m, "part"), "wheel");
}

TEST(Router, TrailingSlashAndDoubleSlashesAreIgnored) {
  Router r;
  ASSERT_FALSE(r.add(route("GET", "/api/items/")));
  EXPECT_EQ(r.match("GET", "/api/items").kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(r.match("GET", "/api//items/").kind, RouteMatch::Kind::kFound);
}

TEST(Router, WildcardMatchesTheRestOfThePath) {
  Router r;
  ASSERT_FALSE(r.add(route("GET", "/static/*")));
  auto m = r.match("GET", "/static/css/site.css");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(param(m, "*"), "css/site.css");
  auto empty = r.match("GET", "/static");
  ASSERT_EQ(empty.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(param(empty, "*"), "");
}

TEST(Router, LiteralBeatsParamBeatsWildcard) {
  Router r;
  ASSERT_FALSE(r.add(route("GET", "/a/new")));
  ASSERT_FALSE(r.add(route("GET", "/a/:id")));
  ASSERT_FALSE(r.add(route("GET", "/a/*")));
  EXPECT_EQ(r.match("GET", "/a/new").route->pattern, "/a/new");
  EXPECT_EQ(r.match("GET", "/a/7").route->pattern, "/a/:id");
  EXPECT_EQ(r.match("GET", "/a/7/x").route->pattern, "/a/*");
}

TEST(Router, BacktracksFromLiteralToParam) {
  Router r;
  ASSERT_FALSE(r.add(route("GET", "/a/b")));
  ASSERT_FALSE(r.add(route("GET", "/a/:x/c")));
  auto m = r.match("GET", "/a/b/c");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->pattern, "/a/:x/c");
  EXPECT_EQ(param(m, "x"), "b");
}

TEST(Router, BacktracksToFindTheRequestedMethod) {
  Router r;
  ASSERT_FALSE(r.add(route("POST", "/a/new")));
  ASSERT_FALSE(r.add(route("GET", "/a/:id")));
  auto m = r.match("GET", "/a/new");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->pattern, "/a/:id");
}

TEST(Router, SameShapeWithDifferentMethodsCoexistWithDifferentParamNames) {
  Router r;
  ASSERT_FALSE(r.add(route("GET", "/w/:id")));
  ASSERT_FALSE(r.add(route("DELETE", "/w/:workflow_id")));
  EXPECT_EQ(param(r.match("GET", "/w/9"), "id"), "9");
  EXPECT_EQ(param(r.match("DELETE", "/w/9"), "workflow_id"), "9");
}

TEST(Router, UnknownPathIsNotFound) {
  Router r;
  ASSERT_FALSE(r.add(route("GET", "/a")));
  EXPECT_EQ(r.match("GET", "/b").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(r.match("GET", "/a/b").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(r.match("GET", "/").kind, RouteMatch::Kind::kNotFound);
}

TEST(Router, WrongMethodIsMethodNotAllowedWithAllowList) {
  Router r;
  ASSERT_FALSE(r.add(route("GET", "/a/:id")));
  ASSERT_FALSE(r.add(route("PUT", "/a/:id")));
  auto m = r.match("DELETE", "/a/1");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"GET", "HEAD", "PUT"}));
}

TEST(Router, HeadFallsBackToGet) {
  Router r;
  ASSERT_FALSE(r.add(route("GET", "/a")));
  auto m = r.match("HEAD", "/a");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->method, "GET");
}

TEST(Router, ConflictNamesBothPlugins) {
  Router r;
  ASSERT_FALSE(r.add(route("GET", "/a/:id", "first")));
  auto err = r.add(route("GET", "/a/:other", "second"));
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("'first'"), std::string::npos) << *err;
  EXPECT_NE(err->find("'second'"), std::string::npos) << *err;
  EXPECT_NE(err->find("conflicts"), std::string::npos) << *err;
}

TEST(Router, IdenticalLiteralRoutesConflict) {
  Router r;
  ASSERT_FALSE(r.add(route("POST", "/x", "a")));
  EXPECT_TRUE(r.add(route("POST", "/x/", "b")));
}

TEST(Router, RejectsMalformedPatterns) {
  EXPECT_TRUE(Router::validate_pattern("no-slash"));
  EXPECT_TRUE(Router::validate_pattern(""));
  EXPECT_TRUE(Router::validate_pattern("/a/*/b"));
  EXPECT_TRUE(Router::validate_pattern("/a/:/b"));
  EXPECT_TRUE(Router::validate_pattern("/a/:id/:id"));
  EXPECT_TRUE(Router::validate_pattern("/a/b?c"));
  EXPECT_FALSE(Router::validate_pattern("/a/:id/*"));
  Router r;
  EXPECT_TRUE(r.add(route("GET", "/a/*/b")));
  EXPECT_TRUE(r.routes().empty());
}

TEST(Router, PathWithTooManySegmentsIsNotFound) {
  Router r;
  ASSERT_FALSE(r.add(route("GET", "/*")));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "/x";
  EXPECT_EQ(r.match("GET", deep).kind, RouteMatch::Kind::kNotFound);
}

}  // namespace
}  // namespace plughost
