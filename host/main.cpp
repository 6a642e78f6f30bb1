// main.cpp — the plughost executable: everything happens in the CLI.
#include "cli/cli.hpp"

int main(int argc, char** argv) {
  return plughost::run_cli(argc, argv);
}
