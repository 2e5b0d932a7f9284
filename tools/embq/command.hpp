// How the `embq` CLI is put together: each subcommand lives in its own file, declares
// its options on a CLI11 subcommand and returns the function that runs it. main()
// parses, applies the global options, runs the chosen subcommand and maps errors to
// exit codes in one place.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace embq::cli {

struct Command {
    CLI::App* app = nullptr;   // the CLI11 subcommand, owned by the parent app
    std::function<int()> run;  // returns the process exit code
};

Command add_inspect_command(CLI::App& parent);
Command add_plan_command(CLI::App& parent);
Command add_quantize_command(CLI::App& parent);
Command add_calibrate_command(CLI::App& parent);
Command add_embed_command(CLI::App& parent);
Command add_eval_command(CLI::App& parent);
Command add_compare_command(CLI::App& parent);
Command add_schemes_command(CLI::App& parent);
Command add_configs_command(CLI::App& parent);
Command add_bench_command(CLI::App& parent);
Command add_sensitivity_command(CLI::App& parent);
Command add_tune_command(CLI::App& parent);
Command add_finetune_command(CLI::App& parent);
Command add_doctor_command(CLI::App& parent);

}  // namespace embq::cli
