// tests/main.cpp — the Catch2 entry point of the single test binary (sdd_tests).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
