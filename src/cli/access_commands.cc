#include "cli/access_commands.h"

#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "auth/auth_service.h"
#include "auth/crypto.h"
#include "auth/runtime_file.h"
#include "common/bounded_json.h"
#include "common/file_util.h"
#include "common/time_util.h"
#include "store/store.h"

namespace loupe::cli {

namespace {

struct Args {
  std::string data_dir;
  std::string name;
  std::string role = "editor";
  std::string label;
  std::string url;
  int64_t token_id = 0;
  bool password_stdin = false;
  bool no_password = false;
};
Args args;

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? v : fallback;
}

int Fail(const Status& st) {
  std::fprintf(stderr, "loupe: %s\n", st.message().c_str());
  return 1;
}

// A password from stdin: prompted twice without echo on a terminal, else its first line.
Result<std::string> ReadPassword() {
  if (!args.password_stdin && isatty(STDIN_FILENO)) {
    struct termios old {};
    tcgetattr(STDIN_FILENO, &old);
    struct termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    std::string a, b;
    std::fprintf(stderr, "Password: ");
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, a);
    std::fprintf(stderr, "\nAgain: ");
    std::getline(std::cin, b);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
    if (a != b) return Status::InvalidArgument("the passwords differ");
    return a;
  }
  std::string line;
  std::getline(std::cin, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// The URL of the server running on this data folder, from its runtime file.
std::string ServerUrl() {
  if (!args.url.empty()) return args.url;
  std::error_code ec;
  const std::string mine = std::filesystem::absolute(args.data_dir, ec).lexically_normal().string();
  if (auth::RuntimeDir().empty()) {
    std::fprintf(stderr, "loupe: no runtime folder (HOME is not set); the link assumes http://127.0.0.1:8080\n");
    return "http://127.0.0.1:8080";
  }
  for (const auto& entry : std::filesystem::directory_iterator(auth::RuntimeDir(), ec)) {
    struct stat st {};  // only this user's own files: another's could send the link anywhere
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) continue;
    Result<std::string> text = ReadFileUpTo(entry.path().string(), 64 * 1024);
    if (!text.ok()) continue;
    Result<nlohmann::json> j = ParseBoundedJson<nlohmann::json>(*text);
    if (!j.ok() || !j->is_object() || !j->contains("data_dir") || !j->contains("url")) continue;
    if (!(*j)["data_dir"].is_string() || !(*j)["url"].is_string()) continue;
    const std::string theirs = std::filesystem::path((*j)["data_dir"].get<std::string>()).lexically_normal().string();
    if (theirs == mine) return (*j)["url"].get<std::string>();
  }
  std::fprintf(stderr, "loupe: no running server found for this data folder; the link assumes "
                       "http://127.0.0.1:8080 (pass --url for another)\n");
  return "http://127.0.0.1:8080";
}

template <typename F>
int WithAuth(F f) {
  if (Status st = auth::InitCrypto(); !st.ok()) return Fail(st);
  // Never a new, empty database: a user added there could never sign in to the real one.
  if (!std::filesystem::exists(std::filesystem::path(args.data_dir) / "loupe.db")) {
    std::error_code ec;
    return Fail(Status::NotFound("no Loupe data in " + std::filesystem::absolute(args.data_dir, ec).string() +
                                 " (no loupe.db): pass the server's folder with --data-dir"));
  }
  StoreOptions o;
  o.data_dir = args.data_dir;
  auto store = OpenSqliteStore(o);
  if (!store.ok()) return Fail(store.status());
  auth::AuthOptions ao;
  ao.data_dir = args.data_dir;
  auth::AuthService auth(**store, ao);
  int rc = f(auth);
  (*store)->Close();
  return rc;
}

void Audit(auth::AuthService& auth, const std::string& action, const std::string& target) {
  AuditEntry e;
  e.user = "cli";
  e.action = action;
  e.target = target;
  e.remote = "local";
  auth.Audit(e).IgnoreError();  // the change itself was made; a full disk must not undo it
}

int UserAdd() {
  return WithAuth([](auth::AuthService& auth) {
    std::string password;
    if (!args.no_password) {
      Result<std::string> p = ReadPassword();
      if (!p.ok()) return Fail(p.status());
      if (p->empty()) {
        return Fail(Status::InvalidArgument(
            "no password given; type one, or pass --no-password for a user who signs in with tokens only"));
      }
      password = *p;
    }
    Result<UserRecord> u = auth.CreateUser(args.name, args.role, password);
    if (!u.ok()) return Fail(u.status());
    Audit(auth, "user added (" + args.role + ")", args.name);
    std::printf("user %s added as %s\n", u->name.c_str(), u->role.c_str());
    return 0;
  });
}

int UserList() {
  return WithAuth([](auth::AuthService& auth) {
    Result<std::vector<UserRecord>> users = auth.ListUsers();
    if (!users.ok()) return Fail(users.status());
    std::printf("%-24s %-8s %s\n", "NAME", "ROLE", "PASSWORD");
    for (const UserRecord& u : *users) {
      std::printf("%-24s %-8s %s\n", u.name.c_str(), u.role.c_str(), u.password_hash.empty() ? "none" : "set");
    }
    return 0;
  });
}

int UserRemove() {
  return WithAuth([](auth::AuthService& auth) {
    if (Status st = auth.DeleteUser(args.name); !st.ok()) return Fail(st);
    Audit(auth, "user removed", args.name);
    std::printf("user %s removed, with their tokens and sessions\n", args.name.c_str());
    return 0;
  });
}

int UserPassword() {
  return WithAuth([](auth::AuthService& auth) {
    Result<std::string> p = ReadPassword();
    if (!p.ok()) return Fail(p.status());
    if (Status st = auth.SetPassword(args.name, *p); !st.ok()) return Fail(st);
    Audit(auth, "password set", args.name);
    std::printf("password of %s set; their sessions are closed\n", args.name.c_str());
    return 0;
  });
}

int UserRole() {
  return WithAuth([](auth::AuthService& auth) {
    if (Status st = auth.SetRole(args.name, args.role); !st.ok()) return Fail(st);
    Audit(auth, "role set (" + args.role + ")", args.name);
    std::printf("%s is now %s\n", args.name.c_str(), args.role.c_str());
    return 0;
  });
}

int UserSignout() {
  return WithAuth([](auth::AuthService& auth) {
    Result<int> n = auth.EndSessions(args.name);
    if (!n.ok()) return Fail(n.status());
    Audit(auth, "sessions ended", args.name);
    std::printf("%d session(s) of %s ended (a running server stops accepting them within seconds)\n", *n,
                args.name.c_str());
    return 0;
  });
}

int TokenCreate() {
  return WithAuth([](auth::AuthService& auth) {
    Result<auth::NewToken> t = auth.CreateToken(args.name, args.label);
    if (!t.ok()) return Fail(t.status());
    Audit(auth, "token created", args.name + " " + args.label);
    std::fprintf(stderr, "token %lld for %s (shown once; keep it secret):\n", static_cast<long long>(t->record.id),
                 args.name.c_str());
    std::printf("%s\n", t->token.c_str());
    return 0;
  });
}

int TokenList() {
  return WithAuth([](auth::AuthService& auth) {
    Result<std::vector<TokenRecord>> tokens = auth.ListTokens(0);
    if (!tokens.ok()) return Fail(tokens.status());
    std::printf("%-6s %-16s %-8s %-24s %s\n", "ID", "USER", "ENDS", "LABEL", "LAST USED (UTC)");
    for (const TokenRecord& t : *tokens) {
      std::printf("%-6lld %-16s %-8s %-24s %s\n", static_cast<long long>(t.id), t.user_name.c_str(),
                  ("..." + t.hint).c_str(), t.label.c_str(), t.last_used ? FormatIsoMicros(t.last_used).c_str() : "never");
    }
    return 0;
  });
}

int TokenRevoke() {
  return WithAuth([](auth::AuthService& auth) {
    if (Status st = auth.RevokeToken(args.token_id); !st.ok()) return Fail(st);
    Audit(auth, "token revoked", std::to_string(args.token_id));
    std::printf("token %lld revoked (a running server stops accepting it within seconds)\n",
                static_cast<long long>(args.token_id));
    return 0;
  });
}

int LoginLink() {
  return WithAuth([](auth::AuthService& auth) {
    Result<std::string> code = auth.MintLoginCode(args.name.empty() ? auth::kLocalUser : args.name);
    if (!code.ok()) return Fail(code.status());
    Audit(auth, "sign-in link made", args.name.empty() ? auth::kLocalUser : args.name);
    std::printf("%s/login?code=%s\n", ServerUrl().c_str(), code->c_str());
    return 0;
  });
}

void DataDirOption(CLI::App* cmd) {
  cmd->add_option("--data-dir", args.data_dir, "The server's data folder (env LOUPE_DATA_DIR)")->capture_default_str();
}

}  // namespace

void AddAccessCommands(CLI::App& app) {
  args.data_dir = EnvOr("LOUPE_DATA_DIR", "./data");
  CLI::App* user = app.add_subcommand("user", "Manage users (admin, editor, viewer)");
  user->require_subcommand(1);
  CLI::App* add = user->add_subcommand("add", "Add a user; the password is read from the terminal or stdin");
  add->add_option("name", args.name, "User name")->required();
  add->add_option("--role", args.role, "admin, editor or viewer")->capture_default_str();
  add->add_flag("--password-stdin", args.password_stdin, "Read the password from stdin's first line");
  add->add_flag("--no-password", args.no_password,
                "No password: the user signs in with tokens only (an empty password is refused otherwise)");
  DataDirOption(add);
  DataDirOption(user->add_subcommand("list", "List users"));
  CLI::App* remove = user->add_subcommand("remove", "Remove a user with their tokens and sessions");
  remove->add_option("name", args.name, "User name")->required();
  DataDirOption(remove);
  CLI::App* passwd = user->add_subcommand("password", "Set a user's password (closes their sessions)");
  passwd->add_option("name", args.name, "User name")->required();
  passwd->add_flag("--password-stdin", args.password_stdin, "Read the password from stdin's first line");
  DataDirOption(passwd);
  CLI::App* role = user->add_subcommand("role", "Change a user's role");
  role->add_option("name", args.name, "User name")->required();
  role->add_option("role", args.role, "admin, editor or viewer")->required();
  DataDirOption(role);

  CLI::App* signout = user->add_subcommand("signout", "End every browser session of a user (the local one too)");
  signout->add_option("name", args.name, "User name")->required();
  DataDirOption(signout);

  CLI::App* token = app.add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);
  CLI::App* create = token->add_subcommand("create", "Create a token for a user and print it once");
  create->add_option("user", args.name, "Whose token")->required();
  create->add_option("--label", args.label, "What it is for, e.g. the machine it lives on");
  DataDirOption(create);
  DataDirOption(token->add_subcommand("list", "List tokens (never their values)"));
  CLI::App* revoke = token->add_subcommand("revoke", "Revoke a token");
  revoke->add_option("id", args.token_id, "Token id (from `loupe token list`)")->required();
  DataDirOption(revoke);

  CLI::App* link = app.add_subcommand("login-link", "Print a one-time sign-in link (24 hours)");
  link->add_option("--user", args.name, "Who it signs in (default: the local admin)");
  link->add_option("--url", args.url, "The server's URL (default: found from its runtime file)");
  DataDirOption(link);
}

int RunAccessCommand(CLI::App& app) {
  if (CLI::App* user = app.get_subcommand("user"); user->parsed()) {
    if (user->get_subcommand("add")->parsed()) return UserAdd();
    if (user->get_subcommand("list")->parsed()) return UserList();
    if (user->get_subcommand("remove")->parsed()) return UserRemove();
    if (user->get_subcommand("password")->parsed()) return UserPassword();
    if (user->get_subcommand("role")->parsed()) return UserRole();
    if (user->get_subcommand("signout")->parsed()) return UserSignout();
  }
  if (CLI::App* token = app.get_subcommand("token"); token->parsed()) {
    if (token->get_subcommand("create")->parsed()) return TokenCreate();
    if (token->get_subcommand("list")->parsed()) return TokenList();
    if (token->get_subcommand("revoke")->parsed()) return TokenRevoke();
  }
  if (app.get_subcommand("login-link")->parsed()) return LoginLink();
  return -1;
}

}  // namespace loupe::cli
