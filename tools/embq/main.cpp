// The embq command line. One try/catch maps every error to a documented exit code:
// 0 ok, 1 a quality gate failed, 2 bad usage/config/input, 3 runtime failure.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <vector>

#include <malloc.h>

#include <spdlog/spdlog.h>

#include "command.hpp"
#include "embq/error.hpp"
#include "embq/runtime.hpp"
#include "path_options.hpp"
#include "progress.hpp"

namespace {

void setup_logging(const std::string& level) {
    auto logger = std::make_shared<spdlog::logger>("embq", embq::cli::make_log_sink());
    logger->set_pattern("%^%l%$: %v");
    logger->set_level(spdlog::level::from_str(level));
    spdlog::set_default_logger(logger);
}

int report_error(const std::string& message, int code) {
    std::cout.flush();
    embq::cli::ProgressBar::clear_drawn();
    std::cerr << "embq: error: " << message << "\n";
    return code;
}

int run(int argc, char** argv) {
    embq::configure_allocator();  // before the first large allocation
    CLI::App app{"embq: quantize embedding models without losing their quality.", "embq"};
    app.set_version_flag("--version", embq::build_description());
    app.require_subcommand(1);
    app.fallthrough();  // global options may come after the subcommand too

    std::string log_level = "info";
    int threads = 0;
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
        ->capture_default_str();
    app.add_option("--threads", threads,
                   "Intra-op threads (0: every CPU; at most the CPUs, BLAS single-threaded "
                   "unless OPENBLAS_NUM_THREADS is set)")
        ->check(CLI::Range(0, 65536))
        ->capture_default_str();

    std::vector<embq::cli::Command> commands = {
        embq::cli::add_inspect_command(app),     embq::cli::add_embed_command(app),
        embq::cli::add_eval_command(app),        embq::cli::add_compare_command(app),
        embq::cli::add_calibrate_command(app),   embq::cli::add_plan_command(app),
        embq::cli::add_quantize_command(app),    embq::cli::add_bench_command(app),
        embq::cli::add_sensitivity_command(app), embq::cli::add_tune_command(app),
        embq::cli::add_finetune_command(app),    embq::cli::add_schemes_command(app),
        embq::cli::add_configs_command(app),     embq::cli::add_doctor_command(app),
    };

    std::string help_topic;
    CLI::App* help = app.add_subcommand("help", "Show help for embq or one of its commands");
    help->add_option("command", help_topic, "The command to explain");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        return report_error(e.what() + std::string("; see 'embq --help'"), embq::kExitBadInput);
    }

    if (help->parsed()) {
        if (help_topic.empty()) {
            // app.help() would describe the selected `help` subcommand itself.
            std::cout << app.get_formatter()->make_help(&app, "embq", CLI::AppFormatMode::Normal);
            return embq::kExitOk;
        }
        for (const auto& c : commands) {
            if (c.app->get_name() == help_topic) {
                std::cout << c.app->help("embq");
                return embq::kExitOk;
            }
        }
        return report_error("unknown command '" + help_topic + "'; see 'embq --help'",
                            embq::kExitBadInput);
    }

    setup_logging(log_level);
    const embq::ThreadSettings settings = embq::configure_threads(threads);
    for (const auto& w : settings.warnings) spdlog::warn("{}", w);
    spdlog::debug("{}; {} intra-op threads, BLAS threads: {} ({}); {}", embq::build_description(),
                  settings.intra_op, settings.blas, settings.blas_source,
                  embq::allocator_settings());

    for (const auto& c : commands) {
        if (!c.app->parsed()) continue;
        embq::cli::check_paths(*c.app);
        embq::cli::ProgressBar::configure_from_environment();
        return c.run();
    }
    return report_error("no command given; see 'embq --help'", embq::kExitBadInput);
}

}  // namespace

// glibc hands freed blocks above its mmap threshold back to the kernel, so the next tensor
// of that size faults every page in again; on the 2-CPU VM here first-touch memory cost
// about 2 ms per MiB (benchmarks/micro/README.md), and `embq eval` embedding 1,000 texts
// with FP32 and int8 USE-Lite side by side took 4.4-4.8 s with freed memory kept for reuse
// against 5.3-5.6 s without (two runs each, same machine). Keep it: blocks up to 32 MiB (glibc's maximum threshold) come from the heap,
// and up to 256 MiB of free heap stays mapped. An eval's peak RSS grew about 4%. A user's
// own MALLOC_*_ environment settings take precedence.
void keep_freed_memory_for_reuse() {
#ifdef __GLIBC__
    if (!std::getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 32 << 20);
    if (!std::getenv("MALLOC_TRIM_THRESHOLD_")) mallopt(M_TRIM_THRESHOLD, 256 << 20);
    if (!std::getenv("MALLOC_TOP_PAD_")) mallopt(M_TOP_PAD, 64 << 20);
#endif
}

int main(int argc, char** argv) {
    embq::install_interrupt_cleanup();
    keep_freed_memory_for_reuse();
    try {
        return run(argc, argv);
    } catch (const embq::Error& e) {
        return report_error(e.what(), embq::exit_code_for(e.category()));
    } catch (const std::exception& e) {
        // libtorch's errors carry a multi-line backtrace; the first line says what failed
        // (TorchScript's compile errors start with an empty one).
        const std::string what = e.what();
        const size_t start = std::min(what.find_first_not_of(" \t\n"), what.size());
        return report_error(what.substr(start, what.find('\n', start) - start), embq::kExitRuntime);
    }
}
