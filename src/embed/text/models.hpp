// Factories of the model kinds (one file each), used by make_model.
#pragma once

#include <memory>

#include "embed/text/components.hpp"
#include "embed/text/vocab.hpp"

namespace embq::text {

std::unique_ptr<Model> make_wordpiece_model(const Json& json, const LoadContext& ctx);
std::unique_ptr<Model> make_unigram_model(const Json& json, const LoadContext& ctx);
std::unique_ptr<Model> make_wordlevel_model(const Json& json, const LoadContext& ctx);

}  // namespace embq::text
