// How to read text for a model, as the command line can override it: which card, which
// tokenizer, how long. Plain paths, no libtorch: eval, calibrate and the CLI's option
// headers need only this from the embedding stage.
#pragma once

#include <cstdint>
#include <filesystem>

namespace embq {

struct EmbeddingModelOptions {
    std::filesystem::path card;       // empty: inferred from forward() and logged
    std::filesystem::path tokenizer;  // overrides the card's
    int64_t max_length = 0;           // > 0 overrides the card's
    // Log the inferred card and the tokenizer at info level. Off for the second and later
    // models read with the same options (compare's and tune's candidates): said once.
    bool announce = true;
};

}  // namespace embq
