#include "text_options.hpp"
#include "path_options.hpp"

namespace embq::cli {

void add_model_text_options(CLI::App& app, EmbeddingModelOptions& options,
                            const std::string& purpose) {
    reads_file(app.add_option("--card", options.card,
                              "Model card (JSON): inputs, output, pooling, normalize, "
                              "max_length, tokenizer; inferred when absent" +
                                  purpose));
    reads_file(app.add_option("--tokenizer", options.tokenizer,
                              "tokenizer.json or vocab.txt (overrides the card's)" + purpose));
    app.add_option("--max-length", options.max_length,
                   "Truncate to this many tokens (overrides the card's)" + purpose)
        ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
}

void add_batch_size_option(CLI::App& app, int64_t& batch_size) {
    app.add_option("--batch-size", batch_size, "Texts per forward call")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 16))
        ->capture_default_str();
}

}  // namespace embq::cli
