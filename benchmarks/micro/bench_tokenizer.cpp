// Tokenizers: texts/s and bytes/s of Tokenizer::encode, the C++ tokenizers embq wrote
// itself (no Python at run time). Every text embq embeds, calibrates or evaluates goes
// through encode() first, so this bounds embedding throughput from below.
//   WordPiece: BERT vocab.txt (the fixture vocab, BERT uncased normalisation).
//   Unigram:   the real model's tokenizer.json (.cache/use-lite, made by tools/setup.sh).
// Input: the first 1,000 lines of the WordNet corpus (.cache/wordnet/corpus.txt, real
// English glosses) when present, else the lines of /usr/share/common-licenses/GPL-3.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "embq/tokenizer.hpp"

namespace {

constexpr size_t kMaxLength = 128;  // a typical embedding model's max_length

const std::vector<std::string>& texts() {
    static const std::vector<std::string> lines = [] {
        const std::filesystem::path corpus = EMBQ_SOURCE_DIR "/.cache/wordnet/corpus.txt";
        std::ifstream in(std::filesystem::exists(corpus) ? corpus
                                                         : "/usr/share/common-licenses/GPL-3");
        std::vector<std::string> out;
        for (std::string line; out.size() < 1000 && std::getline(in, line);)
            if (!line.empty()) out.push_back(line);
        return out;
    }();
    return lines;
}

void run_encode(benchmark::State& state, const std::filesystem::path& path, const char* hint) {
    if (!std::filesystem::exists(path)) {
        state.SkipWithError(
            (embq::bench::kSkipped + path.string() + " is missing; " + hint).c_str());
        return;
    }
    const auto tokenizer = embq::load_tokenizer(path);
    const auto& lines = texts();
    if (lines.empty()) {
        state.SkipWithError("no input text found");
        return;
    }
    int64_t bytes = 0, tokens = 0;
    for (const auto& line : lines) bytes += static_cast<int64_t>(line.size());
    for (auto _ : state) {
        tokens = 0;
        for (const auto& line : lines) {
            const embq::Encoding enc = tokenizer->encode(line, kMaxLength);
            tokens += static_cast<int64_t>(enc.ids.size());
            benchmark::DoNotOptimize(enc.ids.data());
        }
    }
    const auto n = static_cast<int64_t>(state.iterations());
    state.SetItemsProcessed(n * static_cast<int64_t>(lines.size()));
    state.SetBytesProcessed(n * bytes);
    state.counters["tokens/text"] = static_cast<double>(tokens) / static_cast<double>(lines.size());
    const std::string what = tokenizer->describe();  // "WordPiece, 497 tokens, ..."
    state.SetLabel(what.substr(0, what.find(',', what.find(',') + 1)));
}

void BM_TokenizeWordPiece(benchmark::State& state) {
    run_encode(state, EMBQ_FIXTURE_DIR "/vocab.txt", "build the `fixtures` target");
}
BENCHMARK(BM_TokenizeWordPiece)->Unit(benchmark::kMillisecond);

void BM_TokenizeUnigram(benchmark::State& state) {
    run_encode(state, EMBQ_SOURCE_DIR "/.cache/use-lite/tokenizer.json",
               "run tools/setup.sh to fetch the real model");
}
BENCHMARK(BM_TokenizeUnigram)->Unit(benchmark::kMillisecond);

}  // namespace
