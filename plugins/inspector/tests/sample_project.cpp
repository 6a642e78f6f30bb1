#include "sample_project.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace inspector_test {
namespace fs = std::filesystem;

CommandOutput run_command(const std::vector<std::string>& argv, const std::string& cwd) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    if (chdir(cwd.c_str()) != 0) _exit(126);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  CommandOutput out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) out.output.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::string django_python() {
  for (const char* candidate : {"/usr/bin/python3", "python3"}) {
    if (run_command({candidate, "-c", "import django"}, "/").exit_code == 0) return candidate;
  }
  return {};
}

std::string create_sample_project(const std::string& parent, const std::string& python) {
  fs::path target = fs::path(parent) / "workspace";
  fs::create_directories(target);
  for (const auto& entry : fs::recursive_directory_iterator(INSPECTOR_DEMO_WORKSPACE)) {
    fs::path relative = fs::relative(entry.path(), INSPECTOR_DEMO_WORKSPACE);
    std::string text = relative.string();
    if (text.find("__pycache__") != std::string::npos || relative.filename() == "db.sqlite3") {
      continue;
    }
    if (entry.is_directory()) {
      fs::create_directories(target / relative);
    } else {
      fs::copy_file(entry.path(), target / relative, fs::copy_options::overwrite_existing);
    }
  }
  CommandOutput migrate = run_command({python, "manage.py", "migrate", "ops", "0001"}, target);
  if (migrate.exit_code != 0) {
    throw std::runtime_error("manage.py migrate ops 0001 failed: " + migrate.output);
  }
  return target.string();
}

bool process_alive(int pid) {
  if (kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t close_paren = content.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= content.size()) return false;
  return content[close_paren + 2] != 'Z';
}

}  // namespace inspector_test
