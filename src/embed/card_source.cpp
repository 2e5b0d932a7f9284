// Where a model's card comes from (embed.hpp: resolve_model_card), and what an embq output
// carries so that embedding or evaluating it needs no --card or --tokenizer.
#include <nlohmann/json.hpp>

#include "embq/embed.hpp"
#include "embq/error.hpp"
#include "embq/tokenizer.hpp"

namespace embq {

namespace {

namespace fs = std::filesystem;

// `<stem>.card.json`, then `card.json`, in the model's directory.
std::optional<fs::path> card_beside(const fs::path& model) {
    const fs::path dir = model.parent_path().empty() ? fs::path(".") : model.parent_path();
    for (const fs::path& candidate :
         {dir / (model.stem().string() + ".card.json"), dir / "card.json"}) {
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec)) return candidate;
    }
    return std::nullopt;
}

ModelCard parse_carried_card(const LoadedModel& model) {
    const std::string origin = model.path.string() + " (its carried " + kCardEntry + ")";
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(model.carried_card);
    } catch (const nlohmann::json::exception& e) {
        throw input_error(origin + ": invalid JSON; quantize the model again");
    }
    ModelCard card = parse_model_card(doc, origin, model.path.parent_path());
    card.tokenizer.clear();  // the carried bytes, not a path, are the tokenizer
    return card;
}

// The card a file gives: --card, the model's carried card, or one beside the model.
std::optional<ResolvedCard> written_card(const LoadedModel& model,
                                         const EmbeddingModelOptions& options) {
    ResolvedCard r;
    if (!options.card.empty()) {
        r.card = load_model_card(options.card);
        r.how = "card: " + options.card.string();
    } else if (!model.carried_card.empty()) {
        r.card = parse_carried_card(model);
        r.tokenizer_bytes = model.carried_tokenizer;
        r.how = "card: carried by " + model.path.filename().string() + " (--card overrides it)";
    } else if (const auto beside = card_beside(model.path)) {
        r.card = load_model_card(*beside);
        r.how = "card: " + beside->string() + " (found beside the model; --card overrides it)";
    } else {
        return std::nullopt;
    }
    return r;
}

void apply_overrides(ResolvedCard& r, const EmbeddingModelOptions& options) {
    if (!options.tokenizer.empty()) {
        r.card.tokenizer = options.tokenizer;
        r.tokenizer_bytes.clear();
    }
    if (options.max_length > 0) r.card.max_length = options.max_length;
}

}  // namespace

ResolvedCard resolve_model_card(const LoadedModel& model, const EmbeddingModelOptions& options) {
    std::optional<ResolvedCard> found = written_card(model, options);
    ResolvedCard r;
    if (found) {
        r = std::move(*found);
    } else {
        r.card = infer_model_card(forward_schema(model), r.how);
        r.inferred = true;
    }
    apply_overrides(r, options);
    return r;
}

void carry_model_card(LoadedModel& model, const EmbeddingModelOptions& options) {
    std::optional<ResolvedCard> r = written_card(model, options);
    // Without a card file only a --tokenizer is worth carrying; the card that goes with it
    // is inferred here as every later load would.
    if (!r && options.tokenizer.empty()) return;
    if (!r) {
        r.emplace();
        r->card = infer_model_card(forward_schema(model), r->how);
    }
    apply_overrides(*r, options);
    nlohmann::json card = model_card_to_json(r->card);
    std::string tokenizer = r->tokenizer_bytes;
    if (!r->card.tokenizer.empty()) {
        tokenizer = read_tokenizer_file(r->card.tokenizer);
        // The file name, for people reading the archive.
        card["tokenizer"] = tokenizer_file(r->card.tokenizer).filename().string();
    }
    model.carried_card = card.dump(2);
    model.carried_tokenizer = tokenizer;
}

}  // namespace embq
