// experiments/main.cpp — the `sparsedd` binary. The only place that turns exceptions into exit codes:
// UserError -> 2 with a one-line message, any other error -> 1.
#include <cstdio>
#include <exception>
#include <string>

#include "engine/errors.h"

int main(int argc, char** argv) {
  try {
    if (argc < 2) {
      std::fprintf(stderr, "usage: sparsedd <command> [...]\n");
      return 1;
    }
    throw sdd::UserError(std::string("unknown command '") + argv[1] + "'");
  } catch (const sdd::UserError& e) {
    std::fprintf(stderr, "sparsedd: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sparsedd: internal error: %s\n", e.what());
    return 1;
  }
}
