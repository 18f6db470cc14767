// Access control below HTTP: password and token hashing, the local token file, one-time
// codes, throttling, sealed secrets, and the gate's decisions on plain request values.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "auth/auth_service.h"
#include "auth/crypto.h"
#include "auth/secret_service.h"
#include "common/temp_dir.h"
#include "common/test_store.h"
#include "common/time_util.h"
#include "store/store.h"
#include "web/access_gate.h"

namespace loupe {
namespace {

int ModeOf(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(auth::InitCrypto().ok());
    store_ = OpenTestStore(dir_.path());
    ASSERT_NE(store_, nullptr);
    auth::AuthOptions ao;
    ao.data_dir = dir_.path();
    auth_ = std::make_unique<auth::AuthService>(*store_, ao);
    ASSERT_TRUE(auth_->EnsureLocalAccess().ok());
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<auth::AuthService> auth_;
};

TEST(Crypto, PasswordsAreArgon2idAndVerifyOnlyTheRightOne) {
  ASSERT_TRUE(auth::InitCrypto().ok());
  auto h = auth::HashPassword("correct horse");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u) << *h;
  EXPECT_TRUE(auth::VerifyPassword(*h, "correct horse"));
  EXPECT_FALSE(auth::VerifyPassword(*h, "correct hors"));
  EXPECT_FALSE(auth::VerifyPassword("", "correct horse"));
  EXPECT_FALSE(auth::VerifyPassword("garbage", "correct horse"));
  EXPECT_NE(*auth::HashPassword("correct horse"), *h);  // salted
}

TEST(Crypto, TokensAreRandomAndHashedToSha256) {
  std::string a = auth::RandomToken("loupe_"), b = auth::RandomToken("loupe_");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 6u + 43u);  // 32 bytes in unpadded URL-safe base64
  EXPECT_EQ(a.find_first_not_of("loupe_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"), std::string::npos);
  // SHA-256("abc"), FIPS 180-2's first example.
  EXPECT_EQ(auth::HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, SealedValuesOpenOnlyWithTheirKeyAndUnaltered) {
  ASSERT_TRUE(auth::InitCrypto().ok());
  std::string key(32, 'k'), other(32, 'o');
  auto sealed = auth::Seal("sk-secret", key);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find("sk-secret"), std::string::npos);
  EXPECT_NE(*auth::Seal("sk-secret", key), *sealed);  // a fresh nonce each time
  EXPECT_EQ(*auth::Open(*sealed, key), "sk-secret");
  EXPECT_EQ(auth::Open(*sealed, other).status().code(), Code::kCorrupt);
  std::string box = *auth::FromBase64(*sealed);
  box[box.size() - 1] ^= 1;
  EXPECT_EQ(auth::Open(auth::ToBase64(box), key).status().code(), Code::kCorrupt);
  EXPECT_EQ(auth::Open("AAAA", key).status().code(), Code::kCorrupt);
}

TEST_F(AuthTest, TheLocalTokenIsPrivateAndKeptAcrossStarts) {
  const std::string path = auth_->LocalTokenPath();
  EXPECT_EQ(ModeOf(path), 0600);
  std::string token = Slurp(path);
  auto who = auth_->FromToken(token);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->user_name, "local");
  EXPECT_EQ(who->role, "admin");
  ASSERT_TRUE(auth_->EnsureLocalAccess().ok());
  EXPECT_EQ(Slurp(path), token);
  // A damaged file is replaced, and its old token no longer works.
  std::ofstream(path) << "loupe_garbage\n";
  ASSERT_TRUE(auth_->EnsureLocalAccess().ok());
  std::string fresh = Slurp(path);
  EXPECT_NE(fresh, token);
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_EQ(auth_->FromToken(token).status().code(), Code::kUnauthenticated);
  EXPECT_TRUE(auth_->FromToken(fresh).ok());
  auto tokens = auth_->ListTokens(0);
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->size(), 1u);
}

TEST_F(AuthTest, LoginCodesWorkOnceAndExpire) {
  auto code = auth_->MintLoginCode();
  ASSERT_TRUE(code.ok());
  auto session = auth_->LoginWithCode(*code);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(auth_->FromSession(*session)->user_name, "local");
  EXPECT_EQ(auth_->LoginWithCode(*code).status().code(), Code::kUnauthenticated);
  ASSERT_TRUE(store_->CreateLoginCode(auth::HashToken("old"), 1, NowMicros() - 1).ok());
  EXPECT_EQ(auth_->LoginWithCode("old").status().code(), Code::kUnauthenticated);
  ASSERT_TRUE(auth_->Logout(*session).ok());
  EXPECT_EQ(auth_->FromSession(*session).status().code(), Code::kUnauthenticated);
}

TEST_F(AuthTest, RepeatedWrongPasswordsLockTheUserOutForAWhile) {
  ASSERT_TRUE(auth_->CreateUser("ann", "viewer", "long password").ok());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(auth_->LoginWithPassword("ann", "nope").status().code(), Code::kUnauthenticated);
  }
  EXPECT_EQ(auth_->LoginWithPassword("ann", "long password").status().code(), Code::kRateLimited);
  // Other users are not locked by ann's failures.
  ASSERT_TRUE(auth_->CreateUser("bob", "viewer", "long password").ok());
  EXPECT_TRUE(auth_->LoginWithPassword("bob", "long password").ok());
  EXPECT_EQ(auth_->LoginWithPassword("local", "anything").status().code(), Code::kUnauthenticated);
}

TEST_F(AuthTest, ANewPasswordEndsTheSessionsOfTheOldOne) {
  ASSERT_TRUE(auth_->CreateUser("ann", "editor", "long password").ok());
  auto session = auth_->LoginWithPassword("ann", "long password");
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE(auth_->SetPassword("ann", "another long one").ok());
  EXPECT_EQ(auth_->FromSession(*session).status().code(), Code::kUnauthenticated);
  EXPECT_TRUE(auth_->LoginWithPassword("ann", "another long one").ok());
}

TEST(AuthAudit, RefusedSignInsAreRecordedTenAMinuteAndTheRestCounted) {
  ASSERT_TRUE(auth::InitCrypto().ok());
  TempDir dir;
  std::unique_ptr<Store> store = OpenTestStore(dir.path());
  ASSERT_NE(store, nullptr);
  auto now = std::chrono::steady_clock::now();
  auth::AuthOptions ao;
  ao.data_dir = dir.path();
  ao.clock = [&now] { return now; };
  auth::AuthService auth(*store, ao);
  for (int i = 0; i < 25; ++i) {
    AuditEntry e;
    e.action = "login refused";
    e.target = "attempt " + std::to_string(i);
    auth.AuditRefusal(e);
    now += std::chrono::seconds(1);
  }
  auto listed = auth.ListAudit(0, 100);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 10u);  // newest first: attempts 9 down to 0
  EXPECT_EQ(listed->front().target, "attempt 9");
  now += std::chrono::seconds(60);  // a new minute: the next refusal carries the count
  AuditEntry e;
  e.action = "login refused";
  e.target = "attempt 25";
  auth.AuditRefusal(e);
  listed = auth.ListAudit(0, 100);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 11u);
  EXPECT_EQ(listed->front().target, "attempt 25 (and 15 more refused before, not recorded one by one)");
}

TEST_F(AuthTest, SecretsAreSealedWithAPrivateKeyFile) {
  auth::SecretOptions so;
  so.data_dir = dir_.path();
  so.max_count = 2;
  auth::SecretService secrets(*store_, so);
  ASSERT_TRUE(secrets.Init().ok());
  EXPECT_EQ(ModeOf(dir_.path() + "/secret.key"), 0600);
  ASSERT_TRUE(secrets.Put("A", "value-of-a-0001", "ann").ok());
  ASSERT_TRUE(secrets.Put("B", "b", "ann").ok());
  EXPECT_EQ(secrets.Put("C", "c", "ann").code(), Code::kTooLarge);
  ASSERT_TRUE(secrets.Put("A", "value-of-a-0002", "bob").ok());  // replacing is not a new one
  EXPECT_EQ(*secrets.Reveal("A"), "value-of-a-0002");
  auto stored = store_->GetSecret("A");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->sealed.find("value-of-a"), std::string::npos);
  EXPECT_EQ(stored->hint, "0002");
  EXPECT_EQ(stored->updated_by, "bob");
  // A second service on the same folder reads the same key; a different key cannot open.
  auth::SecretService again(*store_, so);
  ASSERT_TRUE(again.Init().ok());
  EXPECT_EQ(*again.Reveal("A"), "value-of-a-0002");
  so.key_base64 = auth::ToBase64(std::string(32, 'z'));
  auth::SecretService wrong(*store_, so);
  ASSERT_TRUE(wrong.Init().ok());
  EXPECT_EQ(wrong.Reveal("A").status().code(), Code::kCorrupt);
  so.key_base64 = "c2hvcnQ=";
  auth::SecretService bad(*store_, so);
  EXPECT_EQ(bad.Init().code(), Code::kInvalidArgument);
}

// The gate, on plain request values.
class GateTest : public AuthTest {
 protected:
  void SetUp() override {
    AuthTest::SetUp();
    AccessOptions o;
    o.allowed_hosts = {"localhost", "127.0.0.1", "::1", "loupe.lab"};
    gate_ = std::make_unique<AccessGate>(*auth_, o);
    gate_->SetPort(8080);
    token_ = Slurp(auth_->LocalTokenPath());
  }
  HttpRequest Req(const std::string& method, const std::string& path) {
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.host = "127.0.0.1:8080";
    r.authorization = "Bearer " + token_;
    return r;
  }
  int Status(HttpRequest r, Access a = Access::kDefault) {
    Route route{r.method, r.path, nullptr};
    route.access = a;
    auto refused = gate_->Check(r, route);
    return refused ? refused->status : 200;
  }
  std::unique_ptr<AccessGate> gate_;
  std::string token_;
};

TEST_F(GateTest, HostNamesAndOrigins) {
  EXPECT_EQ(HostName("[::1]:8080"), "::1");
  EXPECT_EQ(HostName("LocalHost:80"), "localhost");
  EXPECT_EQ(HostName("example.com"), "example.com");
  EXPECT_TRUE(IsLoopbackName("127.0.0.2"));
  EXPECT_TRUE(IsLoopbackName("app.localhost"));
  EXPECT_FALSE(IsLoopbackName("localhost.evil.com"));
  EXPECT_FALSE(IsLoopbackName("0.0.0.0"));

  HttpRequest r = Req("POST", "/api/v1/experiments");
  EXPECT_EQ(Status(r), 200);
  r.host = "loupe.lab:8080";
  EXPECT_EQ(Status(r), 200);
  r.host = "evil.com:8080";
  EXPECT_EQ(Status(r), 403);
  r = Req("POST", "/api/v1/experiments");
  r.origin = "http://127.0.0.1:8080";
  EXPECT_EQ(Status(r), 200);
  r.origin = "http://127.0.0.1:8081";  // another port is another origin
  EXPECT_EQ(Status(r), 403);
  r.origin = "http://127.0.0.1:8080.evil.com";
  EXPECT_EQ(Status(r), 403);
  r.origin = "null";
  EXPECT_EQ(Status(r), 403);
  r.origin = "";
  r.sec_fetch_site = "same-site";
  EXPECT_EQ(Status(r), 403);
  r.sec_fetch_site = "none";  // typed into the address bar
  EXPECT_EQ(Status(r), 200);
  // Reads are not changes: another origin may not read them anyway (no CORS headers).
  HttpRequest get = Req("GET", "/api/v1/projects");
  get.sec_fetch_site = "cross-site";
  EXPECT_EQ(Status(get), 200);
  EXPECT_EQ(Status(get, Access::kWrite), 403);  // SwanLab's GET stop
}

TEST_F(GateTest, CookiesAndRoles) {
  auto session = auth_->LoginWithToken(token_);
  ASSERT_TRUE(session.ok());
  HttpRequest r = Req("GET", "/api/v1/projects");
  r.authorization.clear();
  r.cookie = "other=1; loupe_session_8081=nope; loupe_session_8080=" + *session + "; x=y";
  EXPECT_EQ(gate_->SessionFrom(r.cookie), *session);
  EXPECT_EQ(Status(r), 200);
  HttpRequest change = r;
  change.method = "DELETE";
  EXPECT_EQ(Status(change), 403);  // a cookie alone, without Origin or Sec-Fetch-Site
  change.sec_fetch_site = "same-origin";
  EXPECT_EQ(Status(change), 200);
  r.cookie = "loupe_session_8081=" + *session;  // another server's cookie
  EXPECT_EQ(Status(r), 401);
  ASSERT_TRUE(auth_->CreateUser("vic", "viewer", "").ok());
  auto viewer = auth_->CreateToken("vic", "t");
  ASSERT_TRUE(viewer.ok());
  HttpRequest v = Req("GET", "/api/v1/projects");
  v.authorization = "Bearer " + viewer->token;
  EXPECT_EQ(Status(v), 200);
  EXPECT_EQ(Status(v, Access::kAdmin), 403);
  v.method = "POST";
  EXPECT_EQ(Status(v), 403);
  EXPECT_EQ(Status(v, Access::kRead), 200);  // a POST that only reads
  EXPECT_EQ(Status(v, Access::kPublic), 200);
  v.authorization = "Bearer " + viewer->token + "x";
  EXPECT_EQ(Status(v, Access::kRead), 401);
}

}  // namespace
}  // namespace loupe
