// The plugin's own primitives against published vectors: SHA-1 (FIPS 180), HMAC-SHA1 (RFC 2202),
// TOTP (RFC 6238 appendix B), base32 (RFC 4648), plus sealing and recovery-code shape.
#include "crypto.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sha1.hpp"
#include "totp.hpp"

namespace accounts {
namespace {

std::string hex(const Sha1Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : d) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

TEST(accounts_sha1, MatchesFips180Vectors) {
  EXPECT_EQ(hex(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(hex(sha1(std::string(1000000, 'a'))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(accounts_hmac_sha1, MatchesRfc2202Vectors) {
  EXPECT_EQ(hex(hmac_sha1(std::string(20, '\x0b'), "Hi There")),
            "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(hex(hmac_sha1("Jefe", "what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(hex(hmac_sha1(std::string(80, '\xaa'),
                          "Test Using Larger Than Block-Size Key - Hash Key First")),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

TEST(accounts_totp, MatchesRfc6238Sha1Vectors) {
  const std::string secret = "12345678901234567890";
  // RFC 6238 lists 8-digit codes; a 6-digit code is their last six digits.
  EXPECT_EQ(totp_code(secret, 59 / 30), "287082");
  EXPECT_EQ(totp_code(secret, 1111111109 / 30), "081804");
  EXPECT_EQ(totp_code(secret, 1111111111 / 30), "050471");
  EXPECT_EQ(totp_code(secret, 1234567890 / 30), "005924");
  EXPECT_EQ(totp_code(secret, 2000000000 / 30), "279037");
  EXPECT_EQ(totp_code(secret, 20000000000LL / 30), "353130");
}

TEST(accounts_totp, AcceptsOneStepEitherSideOnly) {
  const std::string secret = "12345678901234567890";
  const int64_t now = 1234567890;
  EXPECT_TRUE(totp_verify(secret, totp_code(secret, now / 30), now));
  EXPECT_TRUE(totp_verify(secret, totp_code(secret, now / 30 - 1), now));
  EXPECT_TRUE(totp_verify(secret, totp_code(secret, now / 30 + 1), now));
  EXPECT_FALSE(totp_verify(secret, totp_code(secret, now / 30 - 2), now));
  EXPECT_FALSE(totp_verify(secret, totp_code(secret, now / 30 + 2), now));
  EXPECT_FALSE(totp_verify(secret, "", now));
  EXPECT_EQ(totp_match_step(secret, totp_code(secret, now / 30 - 1), now), now / 30 - 1);
  EXPECT_EQ(totp_match_step(secret, totp_code(secret, now / 30 + 1), now), now / 30 + 1);
  EXPECT_FALSE(totp_match_step(secret, totp_code(secret, now / 30 + 2), now).has_value());
}

TEST(accounts_base32, MatchesRfc4648VectorsAndRoundTrips) {
  EXPECT_EQ(base32_encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(base32_encode("f"), "MY");
  EXPECT_EQ(*base32_decode("mzxw6ytboi"), "foobar");
  EXPECT_EQ(*base32_decode("MZXW6YQ="), "foob");
  EXPECT_FALSE(base32_decode("MZ1W").has_value());
  std::string raw = random_bytes(20);
  EXPECT_EQ(*base32_decode(base32_encode(raw)), raw);
}

TEST(accounts_otpauth, UriNamesIssuerAccountAndParameters) {
  EXPECT_EQ(otpauth_uri("Dango", "ann@example.com", "ABC"),
            "otpauth://totp/Dango:ann@example.com?secret=ABC&issuer=Dango&algorithm=SHA1&digits=6"
            "&period=30");
}

TEST(accounts_sealing, OpensOnlyUnderTheSameKeyAndUntampered) {
  init_crypto();
  Keys a = derive_keys(std::string(32, 'a'));
  Keys b = derive_keys(std::string(32, 'b'));
  std::string sealed = seal(a, "sk-live-123");
  EXPECT_EQ(sealed.find("sk-live-123"), std::string::npos);
  EXPECT_EQ(*unseal(a, sealed), "sk-live-123");
  EXPECT_FALSE(unseal(b, sealed).has_value());
  std::string tampered = sealed;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(unseal(a, tampered).has_value());
  EXPECT_NE(seal(a, "x"), seal(a, "x"));  // fresh nonce each time
  EXPECT_NE(a.encryption, a.signing);
  EXPECT_THROW(derive_keys("short"), std::invalid_argument);
}

TEST(accounts_recovery_codes, HaveTheXxxxDashXxxxShapeAndNormalise) {
  std::string code = new_recovery_code();
  ASSERT_EQ(code.size(), 9u);
  EXPECT_EQ(code[4], '-');
  EXPECT_TRUE(looks_like_recovery_code(code));
  EXPECT_FALSE(looks_like_recovery_code("123456"));
  EXPECT_EQ(normalize_recovery_code("ab2c-d3ef"), "AB2CD3EF");
}

TEST(accounts_secure_equals, ComparesContentAndLength) {
  EXPECT_TRUE(secure_equals("abc", "abc"));
  EXPECT_FALSE(secure_equals("abc", "abd"));
  EXPECT_FALSE(secure_equals("abc", "abcd"));
}

}  // namespace
}  // namespace accounts
