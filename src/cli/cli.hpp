#pragma once

namespace onboard::cli {

// Parses the command line, runs the command and returns the process exit code; prints
// "error: ..." once for any failure. The only place, with the worker's row boundary, that catches.
int run(int argc, char** argv);

} // namespace onboard::cli
