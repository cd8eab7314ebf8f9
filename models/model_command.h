// models/model_command.h — `sparsedd model NAME [--outputs N]`: lists every tensor of a model (name,
// shape, element count, prunable / parameter / buffer) and the totals.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace sdd::models {

// "11164352" -> "11,164,352".
std::string with_thousands(int64_t n);

// Runs the command. args are the words after "model". Prints to `out`; returns the exit code (0).
// Bad arguments or names throw UserError (exit code 2 in main).
int model_command(const std::vector<std::string>& args, std::ostream& out);
int model_command(const std::vector<std::string>& args);   // prints to std::cout

}  // namespace sdd::models
